"""The design API as the old chatbot's editor calls it: its PUT bodies, its nulls, its list shapes."""

import pytest

from flows.models import Flow, FlowMessage, FlowTemplate, Subflow
from tests.factories.flows import FlowMessageFactory, FlowTemplateFactory, SubflowFactory, flow_for

pytestmark = pytest.mark.django_db


def test_a_put_without_subflow_id_keeps_the_messages_subflow(alice_client, org_a):
    message = FlowMessageFactory(subflow=SubflowFactory(flow=flow_for(org_a)), text="Olá")
    body = {
        "message_text": "Olá de novo",
        "message_type": "text",
        "order_index": 0,
        "wait_for_response": True,
        "wait_for_file": False,
        "expected_file_types": [],
        "delay_seconds": 0,
    }

    response = alice_client.put(f"/api/v1/flow-messages/{message.id}", body, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["subflow_id"] == message.subflow_id
    assert FlowMessage.objects.get(id=message.id).text == "Olá de novo"
    assert alice_client.post("/api/v1/flow-messages", body, format="json").status_code == 400  # a new one needs it


def test_null_for_an_optional_text_is_empty(alice_client, org_a):
    template = alice_client.post(
        "/api/v1/flow-templates", {"name": "Suporte", "description": None, "created_by": None}, format="json"
    )
    assert template.status_code == 201, template.json()
    flow = alice_client.post(
        "/api/v1/flows",
        {"template_id": template.json()["id"], "name": "F", "description": None, "is_default": False, "order_index": 0},
        format="json",
    )
    assert flow.status_code == 201, flow.json()
    subflow = alice_client.post(
        "/api/v1/subflows",
        {"flow_id": flow.json()["id"], "name": "S", "description": None, "parent_subflow_id": None, "order_index": 0},
        format="json",
    )
    assert subflow.status_code == 201, subflow.json()

    assert FlowTemplate.objects.get().description == Flow.objects.get().description == ""
    assert Subflow.objects.get().description == ""
    assert alice_client.post("/api/v1/flow-templates", {"name": None}, format="json").status_code == 400


def test_each_old_list_path_answers_the_shape_its_client_reads(alice_client, org_a):
    template = FlowTemplateFactory(organization=org_a, name="Loja")

    old_templates = alice_client.get("/api/v1/flow-templates").json()
    chatbots = alice_client.get("/api/v1/chatbots").json()
    ours = alice_client.get("/api/v1/templates").json()
    paged = alice_client.get("/api/v1/flow-templates?page=1").json()

    assert [t["id"] for t in old_templates] == [template.id]  # a bare array
    assert chatbots["items"][0]["id"] == template.id and chatbots["count"] == 1 and "results" not in chatbots
    assert ours["results"][0]["id"] == template.id and ours["count"] == 1
    assert paged["results"][0]["id"] == template.id  # asked for a page: the envelope
