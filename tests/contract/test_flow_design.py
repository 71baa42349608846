"""§3 of the inherited contract (chatbot flow design, conversations): the old bodies, the old answers."""

import pytest

from flows.models import Conversation, FlowTemplate, MessageHistory
from tests.support.contract import API

pytestmark = pytest.mark.django_db


def test_3_flow_templates_list_active_ones_with_flows_count(alice_client, contract_rows, org_a):
    FlowTemplate.objects.create(organization=org_a, name="Antigo", is_active=False)

    listed = alice_client.get(f"{API}/flow-templates").json()  # a bare array, as the old client reads it
    everything = alice_client.get(f"{API}/flow-templates?include_inactive=true").json()

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
    message = contract_rows["subflow"].messages.get()
    conversation = Conversation.objects.create(
        organization=org_a,
        contact=contact,
        instance=instance,
        flow=contract_rows["flow"],
        subflow=contract_rows["subflow"],
        current_message=message,
        external_ticket_id="7001",
    )
    for direction, text in (("out", message.text), ("in", "Oi")):
        MessageHistory.objects.create(
            organization=org_a,
            conversation=conversation,
            contact=contact,
            instance=instance,
            direction=direction,
            text=text,
            flow_message=message if direction == "out" else None,
            external_ticket_id="7001",
        )

    listed = alice_client.get(f"{API}/conversations").json()
    history = alice_client.get(f"{API}/conversations/{conversation.id}/history").json()

    assert {"template_name", "flow_name", "subflow_name", "current_message"} <= set(listed[0])
    assert (listed[0]["template_name"], listed[0]["flow_name"], listed[0]["subflow_name"]) == (
        "Atendimento Loja",
        "Oferta",
        "Início",
    )
    assert listed[0]["current_message"] == message.text  # the text, as the old client reads it
    assert [
        (h["message_text"], h["is_from_bot"], h["flow_message_id"], h["contact_id"], h["ticket_id"]) for h in history
    ] == [(message.text, True, message.id, 10, "7001"), ("Oi", False, None, 10, "7001")]


def test_3_chatbots_list_is_read_as_items(alice_client, contract_rows):
    body = alice_client.get(f"{API}/chatbots").json()

    assert body["items"][0]["id"] == 1


def test_3_the_old_editor_puts_a_message_without_its_subflow(alice_client, contract_rows):
    message = contract_rows["subflow"].messages.get()
    body = {
        "message_text": "Olá {{customer_name}}!",
        "message_type": "text",
        "order_index": 0,
        "wait_for_response": True,
        "wait_for_file": False,
        "expected_file_types": [],
        "delay_seconds": 0,
    }

    response = alice_client.put(f"{API}/flow-messages/{message.id}", body, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["subflow_id"], response.json()["message_text"]) == (
        message.subflow_id,
        body["message_text"],
    )


def test_3_null_descriptions_and_author_are_empty(alice_client, contract_rows):
    template = alice_client.post(
        f"{API}/flow-templates", {"name": "Suporte", "description": None, "created_by": None}, format="json"
    )
    flow = alice_client.post(
        f"{API}/flows",
        {"template_id": 1, "name": "Pós-venda", "description": None, "is_default": False, "order_index": 1},
        format="json",
    )
    subflow = alice_client.post(
        f"{API}/subflows",
        {
            "flow_id": 2,
            "name": "Menu",
            "description": None,
            "parent_subflow_id": None,
            "trigger_keywords": [],
            "order_index": 0,
        },
        format="json",
    )

    assert [r.status_code for r in (template, flow, subflow)] == [201, 201, 201]
    assert template.json()["description"] == flow.json()["description"] == subflow.json()["description"] == ""
