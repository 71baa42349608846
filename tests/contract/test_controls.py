"""§4 of the inherited contract: settings, bot controls, analytics, export/import, health."""

import copy
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from flows.models import Conversation, FlowTemplate, MessageHistory, ReceivedFile, SystemSetting
from tests.support.contract import API

pytestmark = pytest.mark.django_db


def test_4_settings_are_an_object_keyed_by_setting(alice_client, org_a):
    body = alice_client.get(f"{API}/settings").json()

    assert body["BOT_ENABLED"]["value"] is True and body["BOT_ENABLED"]["type"] == "boolean"
    assert body["BOT_ENABLED"]["description"]
    assert {"BOT_STATUS", "TEST_MODE", "DEBOUNCE_TIME"} <= set(body)


@pytest.mark.parametrize(
    ("key", "body", "stored"),
    [
        ("BOT_ENABLED", {"value": False, "type": "boolean", "description": "Liga o bot"}, False),
        ("WELCOME_TEXT", {"value": "Olá!", "type": "string", "description": "Saudação"}, "Olá!"),
        ("MAX_FILE_MB", {"value": 12.5, "type": "number", "description": "Tamanho máximo"}, 12.5),
        ("BUSINESS_HOURS", {"value": {"start": "09:00"}, "type": "json", "description": "Horário"}, {"start": "09:00"}),
        ("NIGHT_MODE", {"value": "true", "type": "boolean", "description": ""}, True),
    ],
)
def test_4_put_a_setting_with_type_and_description(key, body, stored, alice_client, org_a):
    response = alice_client.put(f"{API}/settings/{key}", body, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["value"], response.json()["type"]) == (stored, body["type"])
    listed = alice_client.get(f"{API}/settings").json()
    assert listed[key]["value"] == stored and listed[key]["description"] == body["description"]


@pytest.mark.parametrize(
    ("key", "body", "field"),
    [
        ("MAX_FILE_MB", {"value": "muitos", "type": "number"}, "value"),
        ("FLAG", {"value": "talvez", "type": "boolean"}, "value"),
        ("FLAG", {"value": 1, "type": "date"}, "type"),
        ("BOT_ENABLED", {"value": True, "type": "string"}, "type"),
        ("bad-key", {"value": 1, "type": "number"}, "key"),
        ("NOTE", {"value": "a\x00b", "type": "string"}, "value"),
    ],
)
def test_4_a_bad_setting_is_a_400_naming_the_field(key, body, field, alice_client, org_a):
    response = alice_client.put(f"{API}/settings/{key}", body, format="json")

    assert response.status_code == 400 and field in response.json()
    assert not SystemSetting.objects.exists()


def test_4_bot_status_enable_disable_and_test_mode(alice_client, org_a):
    status = alice_client.get(f"{API}/bot/status").json()
    disabled = alice_client.post(f"{API}/bot/disable").json()
    enabled = alice_client.post(f"{API}/bot/enable").json()
    test_mode = alice_client.post(f"{API}/bot/test-mode", {"enabled": True}, format="json").json()

    assert {"bot_enabled", "bot_status", "test_mode", "test_contact_id", "debounce_time"} <= set(status)
    assert (status["bot_enabled"], status["bot_status"], status["debounce_time"]) == (True, "active", 3000)
    assert disabled["status"] == "disabled" and enabled["status"] == "enabled"
    assert test_mode["test_mode"] is True


def test_4_conversation_analytics_of_the_last_30_days(alice_client, contract_rows, org_a):
    contact, instance, flow = contract_rows["contacts"][0], contract_rows["instance"], contract_rows["flow"]
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        old = Conversation.objects.create(
            organization=org_a, contact=contact, instance=instance, flow=flow, status="completed"
        )
        MessageHistory.objects.create(
            organization=org_a, conversation=old, contact=contact, instance=instance, direction="in"
        )
    recent = Conversation.objects.create(organization=org_a, contact=contact, instance=instance, flow=flow)
    for direction in ("in", "out"):
        MessageHistory.objects.create(
            organization=org_a, conversation=recent, contact=contact, instance=instance, direction=direction
        )

    body = alice_client.get(f"{API}/analytics/conversations").json()
    longer = alice_client.get(f"{API}/analytics/conversations?days=60").json()

    assert body["by_status"] == [{"status": "active", "count": 1}]
    assert body["by_flow"][0]["flow_name"] == "Oferta" and body["by_flow"][0]["count"] == 1
    assert [(d["messages_count"], d["conversations_count"]) for d in body["daily_messages"]] == [(2, 1)]
    assert {"date", "messages_count", "conversations_count"} <= set(body["daily_messages"][0])
    assert sorted(row["status"] for row in longer["by_status"]) == ["active", "completed"]
    assert alice_client.get(f"{API}/analytics/conversations?days=zero").status_code == 400


def test_4_file_analytics(alice_client, contract_rows, org_a):
    contact = contract_rows["contacts"][0]
    for size in (1024 * 1024, 3 * 1024 * 1024):
        ReceivedFile.objects.create(organization=org_a, contact=contact, file_type="application/pdf", size=size)

    body = alice_client.get(f"{API}/analytics/files").json()

    assert body["files_by_type"] == [
        {"file_type": "application/pdf", "count": 2, "avg_size_mb": 2.0, "average_size": 2 * 1024 * 1024}
    ]


def test_4_export_in_the_old_shape_and_import_it_back(alice_client, contract_rows, org_a):
    child = contract_rows["flow"].subflows.create(name="Filho", parent=contract_rows["subflow"], trigger_keywords=["a"])
    child.messages.create(text="Mande o arquivo", wait_for_file=True, expected_file_types=["pdf"])

    exported = alice_client.get(f"{API}/export/flows/1").json()

    assert set(exported) == {"template", "flows"} and exported["template"]["name"] == "Atendimento Loja"
    flow = exported["flows"][0]
    assert {"name", "description", "is_default", "order_index", "template_id", "subflows"} <= set(flow)
    subflow = next(s for s in flow["subflows"] if s["name"] == "Filho")
    assert subflow["parent_subflow_id"] == contract_rows["subflow"].id and subflow["flow_id"] == 2
    assert subflow["messages"][0]["message_text"] == "Mande o arquivo" and subflow["messages"][0]["subflow_id"]

    imported = alice_client.post(f"{API}/import/flows", exported, format="json")

    assert imported.status_code == 201, imported.json()
    template = FlowTemplate.objects.get(id=imported.json()["id"])
    assert template.name == "Imported - Atendimento Loja" and template.organization == org_a
    new_child = template.flows.get().subflows.get(name="Filho")
    assert new_child.parent.name == "Início" and new_child.messages.get().text == "Mande o arquivo"


def test_4_import_of_an_old_document_with_null_descriptions(alice_client, org_a):
    document = {
        "template": {"id": "9b2f…", "name": "Loja antiga", "description": None, "created_by": None},
        "flows": [{"id": "f1", "name": "Principal", "description": None, "is_default": True, "subflows": []}],
    }

    response = alice_client.post(f"{API}/import/flows", document, format="json")

    assert response.status_code == 201, response.json()
    assert FlowTemplate.objects.get().description == ""


def test_4_import_of_an_old_document_is_all_or_nothing(alice_client, org_a):
    document = {
        "template": {"id": "9b2f…", "name": "Loja antiga", "description": ""},
        "flows": [
            {
                "id": "f1",
                "name": "Principal",
                "is_default": True,
                "order_index": 0,
                "subflows": [
                    {"id": "s1", "name": "Início", "parent_subflow_id": None, "trigger_keywords": [], "messages": []},
                    {
                        "id": "s2",
                        "name": "Preços",
                        "parent_subflow_id": "s1",
                        "trigger_keywords": ["preço"],
                        "messages": [{"message_text": "Tabela", "message_type": "text", "order_index": 0}],
                    },
                ],
            }
        ],
    }
    broken = copy.deepcopy(document)
    broken["flows"][0]["subflows"][1]["messages"][0]["delay_seconds"] = -5

    refused = alice_client.post(f"{API}/import/flows", broken, format="json")
    assert refused.status_code == 400
    assert "flows[0].subflows[1].messages[0].delay_seconds" in refused.json()
    assert not FlowTemplate.objects.exists()

    accepted = alice_client.post(f"{API}/import/flows", document, format="json")
    assert accepted.status_code == 201 and accepted.json()["name"] == "Imported - Loja antiga"
    message = FlowTemplate.objects.get().flows.get().subflows.get(name="Preços").messages.get()
    assert message.text == "Tabela" and message.wait_for_response is True  # the old default


def test_4_health_tells_the_bot_controls_and_a_timestamp(client, db):
    body = client.get("/health").json()

    assert {"bot_enabled", "bot_status", "test_mode", "timestamp"} <= set(body)
