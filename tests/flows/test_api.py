"""The flows API: design and conversations (and what a viewer may do)."""

import pytest

from flows.models import Conversation, FlowMessage, MessageHistory, SystemSetting
from tests.factories.flows import ConversationFactory, FlowFactory, FlowTemplateFactory, SubflowFactory, flow_for

pytestmark = pytest.mark.django_db


def test_templates_list_with_flow_counts_and_create(alice_client, org_a):
    template = FlowTemplateFactory(organization=org_a, name="Loja")
    FlowFactory(template=template)
    FlowFactory(template=template)

    listed = alice_client.get("/api/v1/chatbots/").json()["items"]
    created = alice_client.post("/api/v1/templates/", {"name": "Suporte"}, format="json")

    assert [(t["name"], t["flow_count"]) for t in listed] == [("Loja", 2)]
    assert created.status_code == 201 and created.json()["organization"] == org_a.id
    flows = alice_client.get(f"/api/v1/templates/{template.id}/flows/").json()
    assert len(flows) == 2


def test_design_a_flow_down_to_its_messages(bob_client, org_a):
    template = FlowTemplateFactory(organization=org_a)
    flow = bob_client.post("/api/v1/flows/", {"template": template.id, "name": "F", "is_default": True}, format="json")
    assert flow.status_code == 201
    subflow = bob_client.post(
        "/api/v1/subflows/", {"flow": flow.json()["id"], "name": "S", "trigger_keywords": ["preço"]}, format="json"
    )
    assert subflow.status_code == 201
    message = bob_client.post(
        "/api/v1/flow-messages/",
        {"subflow": subflow.json()["id"], "text": "Olá", "wait_for_response": True},
        format="json",
    )
    assert message.status_code == 201
    updated = bob_client.patch(f"/api/v1/flow-messages/{message.json()['id']}/", {"text": "Oi!"}, format="json")
    assert updated.status_code == 200 and FlowMessage.objects.get().text == "Oi!"
    listed = bob_client.get(f"/api/v1/subflows/{subflow.json()['id']}/messages/").json()
    assert [m["text"] for m in listed] == ["Oi!"]
    assert len(bob_client.get(f"/api/v1/flows/{flow.json()['id']}/subflows/").json()) == 1


def test_bad_design_input_is_a_400_naming_the_field(alice_client, org_a, org_b):
    subflow = SubflowFactory(flow=flow_for(org_a))
    foreign = FlowTemplateFactory(organization=org_b)

    both_waits = alice_client.post(
        "/api/v1/flow-messages/",
        {"subflow": subflow.id, "text": "x", "wait_for_response": True, "wait_for_file": True},
        format="json",
    )
    other_org = alice_client.post("/api/v1/flows/", {"template": foreign.id, "name": "x"}, format="json")
    too_many = alice_client.post(
        "/api/v1/flow-messages/", {"subflow": subflow.id, "text": "x", "variations": ["a"] * 5}, format="json"
    )

    assert both_waits.status_code == 400 and "wait_for_file" in both_waits.json()
    assert other_org.status_code == 400 and "template" in other_org.json()
    assert too_many.status_code == 400 and "variations" in too_many.json()


def test_conversations_with_names_and_history(alice_client, org_a):
    flow = flow_for(org_a, name="Boas-vindas")
    active = ConversationFactory(organization=org_a, flow=flow)
    ConversationFactory(organization=org_a, flow=flow, status=Conversation.Status.COMPLETED)
    MessageHistory.objects.create(
        organization=org_a,
        conversation=active,
        contact=active.contact,
        instance=active.instance,
        direction="out",
        text="Olá",
    )

    listed = alice_client.get("/api/v1/conversations/").json()
    history = alice_client.get(f"/api/v1/conversations/{active.id}/history/").json()

    assert [(c["id"], c["flow_name"], c["template_name"]) for c in listed] == [
        (active.id, "Boas-vindas", flow.template.name)
    ]
    assert [(h["text"], h["from_bot"]) for h in history] == [("Olá", True)]
    assert len(alice_client.get("/api/v1/conversations/?status=all").json()) == 2


def test_a_viewer_reads_but_cannot_change_anything(vera_client, org_a):
    template = FlowTemplateFactory(organization=org_a)

    assert vera_client.get("/api/v1/templates/").status_code == 200
    assert vera_client.get("/api/v1/bot/status").status_code == 200
    assert vera_client.post("/api/v1/templates/", {"name": "x"}, format="json").status_code == 403
    assert vera_client.patch(f"/api/v1/templates/{template.id}/", {"name": "x"}, format="json").status_code == 403
    assert vera_client.put("/api/v1/settings/BOT_ENABLED", {"value": False}, format="json").status_code == 403
    assert vera_client.post("/api/v1/bot/disable").status_code == 403
    assert not SystemSetting.objects.exists()
