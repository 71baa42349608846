"""§3 of the inherited contract (chatbot flow design, conversations): the old bodies, the old answers."""

import pytest

from flows.models import Conversation, FlowTemplate, MessageHistory
from tests.support.contract import API

pytestmark = pytest.mark.django_db


def test_3_flow_templates_list_active_ones_with_flows_count(alice_client, contract_rows, org_a):
    FlowTemplate.objects.create(organization=org_a, name="Antigo", is_active=False)

    listed = alice_client.get(f"{API}/flow-templates").json()["results"]
    everything = alice_client.get(f"{API}/flow-templates?include_inactive=true").json()["results"]

    assert [(t["id"], t["name"], t["flows_count"]) for t in listed] == [(1, "Atendimento Loja", 1)]
    assert {t["name"] for t in everything} == {"Atendimento Loja", "Antigo"}


def test_3_create_a_flow_template(alice_client, alice, org_a):
    body = {"name": "Suporte", "description": "Atendimento de suporte", "created_by": "admin"}

    response = alice_client.post(f"{API}/flow-templates", body, format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "created" and response.json()["id"]
    template = FlowTemplate.objects.get(id=response.json()["id"])
    assert template.organization == org_a and template.created_by == alice


def test_3_design_down_to_messages_with_the_old_bodies(alice_client, contract_rows):
    flow = alice_client.post(
        f"{API}/flows",
        {
            "template_id": 1,
            "name": "Pós-venda",
            "description": "Depois da compra",
            "is_default": False,
            "order_index": 1,
        },
        format="json",
    )
    assert flow.status_code == 201, flow.json()
    flow_id = flow.json()["id"]
    assert flow.json()["template_id"] == 1

    parent = alice_client.post(
        f"{API}/subflows",
        {
            "flow_id": flow_id,
            "name": "Menu",
            "description": "",
            "parent_subflow_id": None,
            "trigger_keywords": [],
            "order_index": 0,
        },
        format="json",
    )
    assert parent.status_code == 201, parent.json()
    child = alice_client.post(
        f"{API}/subflows",
        {
            "flow_id": flow_id,
            "name": "Preços",
            "description": "Tabela",
            "parent_subflow_id": parent.json()["id"],
            "trigger_keywords": ["preço", "valor"],
            "order_index": 1,
        },
        format="json",
    )
    assert child.status_code == 201, child.json()
    assert (child.json()["flow_id"], child.json()["parent_subflow_id"]) == (flow_id, parent.json()["id"])

    message_body = {
        "subflow_id": child.json()["id"],
        "message_text": "Nossos preços: …",
        "message_type": "text",
        "order_index": 0,
        "wait_for_response": True,
        "wait_for_file": False,
        "expected_file_types": [],
        "delay_seconds": 0,
    }
    message = alice_client.post(f"{API}/flow-messages", message_body, format="json")
    assert message.status_code == 201, message.json()
    assert (message.json()["message_text"], message.json()["subflow_id"]) == ("Nossos preços: …", child.json()["id"])
    changed = alice_client.put(
        f"{API}/flow-messages/{message.json()['id']}",
        {**message_body, "message_text": "Preços novos", "delay_seconds": 2},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["message_text"], changed.json()["delay_seconds"]) == ("Preços novos", 2)

    no_wait_given = {key: value for key, value in message_body.items() if key != "wait_for_response"}
    defaulted = alice_client.post(f"{API}/flow-messages", no_wait_given, format="json")
    assert defaulted.status_code == 201 and defaulted.json()["wait_for_response"] is True

    flows = alice_client.get(f"{API}/templates/1/flows").json()
    subflows = alice_client.get(f"{API}/flows/{flow_id}/subflows").json()
    messages = alice_client.get(f"{API}/subflows/{child.json()['id']}/messages").json()
    assert {f["id"]: f["subflows_count"] for f in flows} == {2: 1, flow_id: 2}
    assert [(s["name"], s["messages_count"]) for s in subflows] == [("Menu", 0), ("Preços", 2)]
    assert [m["message_text"] for m in messages] == ["Preços novos", "Nossos preços: …"]


def test_3_nested_lists_show_active_rows_unless_asked(alice_client, contract_rows):
    flow = contract_rows["flow"]
    flow.subflows.create(name="Desativado", is_active=False)

    active = alice_client.get(f"{API}/flows/2/subflows").json()
    every = alice_client.get(f"{API}/flows/2/subflows?include_inactive=true").json()

    assert [s["name"] for s in active] == ["Início"]
    assert [s["name"] for s in every] == ["Início", "Desativado"]


def test_3_conversations_and_their_history(alice_client, contract_rows, org_a):
    contact, instance = contract_rows["contacts"][0], contract_rows["instance"]
    conversation = Conversation.objects.create(
        organization=org_a,
        contact=contact,
        instance=instance,
        flow=contract_rows["flow"],
        subflow=contract_rows["subflow"],
    )
    MessageHistory.objects.create(
        organization=org_a, conversation=conversation, contact=contact, instance=instance, direction="in", text="Oi"
    )

    listed = alice_client.get(f"{API}/conversations").json()["results"]
    history = alice_client.get(f"{API}/conversations/{conversation.id}/history").json()["results"]

    assert {"template_name", "flow_name", "subflow_name", "current_message"} <= set(listed[0])
    assert (listed[0]["template_name"], listed[0]["flow_name"], listed[0]["subflow_name"]) == (
        "Atendimento Loja",
        "Oferta",
        "Início",
    )
    assert [h["text"] for h in history] == ["Oi"]
