"""The flows API: design, conversations, settings and bot controls, analytics."""

import pytest

from flows.models import Conversation, FlowMessage, MessageHistory, ReceivedFile, SystemSetting
from tests.factories.flows import ConversationFactory, FlowFactory, FlowTemplateFactory, SubflowFactory, flow_for

pytestmark = pytest.mark.django_db


def test_templates_list_with_flow_counts_and_create(alice_client, org_a):
    template = FlowTemplateFactory(organization=org_a, name="Loja")
    FlowFactory(template=template)
    FlowFactory(template=template)

    listed = alice_client.get("/api/v1/chatbots/").json()["results"]
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

    listed = alice_client.get("/api/v1/conversations/").json()["results"]
    history = alice_client.get(f"/api/v1/conversations/{active.id}/history/").json()["results"]

    assert [(c["id"], c["flow_name"], c["template_name"]) for c in listed] == [
        (active.id, "Boas-vindas", flow.template.name)
    ]
    assert [(h["text"], h["from_bot"]) for h in history] == [("Olá", True)]
    assert len(alice_client.get("/api/v1/conversations/?status=all").json()["results"]) == 2


def test_settings_and_bot_controls(alice_client, org_a):
    settings = alice_client.get("/api/v1/settings").json()
    assert settings["BOT_ENABLED"]["value"] is True and settings["BOT_ENABLED"]["is_default"]

    put = alice_client.put("/api/v1/settings/DEBOUNCE_TIME", {"value": 1500}, format="json")
    bad = alice_client.put("/api/v1/settings/BOT_STATUS", {"value": "sleeping"}, format="json")
    unknown = alice_client.put("/api/v1/settings/bad-key", {"value": 1}, format="json")
    assert put.status_code == 200 and put.json()["value"] == 1500
    assert bad.status_code == 400 and "value" in bad.json()
    assert unknown.status_code == 400 and "key" in unknown.json()
    assert SystemSetting.objects.get(organization=org_a, key="DEBOUNCE_TIME").value == "1500"

    assert alice_client.post("/api/v1/bot/disable").json()["answering"] is False
    assert alice_client.get("/api/v1/bot/status").json()["enabled"] is False
    assert alice_client.post("/api/v1/bot/enable").json()["answering"] is True
    test_mode = alice_client.post("/api/v1/bot/test-mode", {"enabled": True, "contact_ids": ["12"]}, format="json")
    assert test_mode.json()["test_mode"] is True and test_mode.json()["test_contact_ids"] == ["12"]


def test_a_viewer_reads_but_cannot_change_anything(vera_client, org_a):
    template = FlowTemplateFactory(organization=org_a)

    assert vera_client.get("/api/v1/templates/").status_code == 200
    assert vera_client.get("/api/v1/bot/status").status_code == 200
    assert vera_client.post("/api/v1/templates/", {"name": "x"}, format="json").status_code == 403
    assert vera_client.patch(f"/api/v1/templates/{template.id}/", {"name": "x"}, format="json").status_code == 403
    assert vera_client.put("/api/v1/settings/BOT_ENABLED", {"value": False}, format="json").status_code == 403
    assert vera_client.post("/api/v1/bot/disable").status_code == 403
    assert not SystemSetting.objects.exists()


def test_settings_of_another_organization_are_out_of_reach(alice_client, org_b):
    response = alice_client.put(
        f"/api/v1/settings/BOT_ENABLED?organization={org_b.id}", {"value": False}, format="json"
    )
    assert response.status_code == 400 and "organization" in response.json()
    assert not SystemSetting.objects.exists()


def test_analytics(alice_client, org_a):
    flow = flow_for(org_a, name="F1")
    conversation = ConversationFactory(organization=org_a, flow=flow)
    ConversationFactory(organization=org_a, flow=flow, status="completed")
    for direction in ("in", "out", "out"):
        MessageHistory.objects.create(
            organization=org_a,
            conversation=conversation,
            contact=conversation.contact,
            instance=conversation.instance,
            direction=direction,
        )
    for size in (100, 300):
        ReceivedFile.objects.create(
            organization=org_a, contact=conversation.contact, file_type="application/pdf", size=size
        )

    conversations = alice_client.get("/api/v1/analytics/conversations").json()
    files = alice_client.get("/api/v1/analytics/files").json()

    assert conversations["by_status"] == [{"status": "active", "count": 1}, {"status": "completed", "count": 1}]
    assert conversations["by_flow"] == [{"flow": flow.id, "flow_name": "F1", "count": 2}]
    daily = conversations["daily_messages"]
    assert [(d["in"], d["out"], d["messages_count"], d["conversations_count"]) for d in daily] == [(1, 2, 3, 1)]
    assert files["files_by_type"] == [
        {"file_type": "application/pdf", "count": 2, "avg_size_mb": 0.0, "average_size": 200}
    ]
