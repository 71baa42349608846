"""The inherited API contract (`../shared/SEED-CONTRACT.md`), sent as written, answer fields checked.

Each test is one example of the contract: its path, its body as the old docs print it
(ids 1, 2, 3, 10, 11 are the rows `contract_rows` creates), and the fields the old
clients read from the answer. This module is the suite's record that they keep working.
Section 2 (schedules) is in `test_seed_contract_schedules.py`.
"""

import copy
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from campaigns.models import Campaign, Execution, Recipient
from campaigns.schedules import ticker
from contacts.models import Contact
from flows.models import Conversation, FlowTemplate, MessageHistory, ReceivedFile, SystemSetting
from instances.models import WhatsAppInstance

pytestmark = pytest.mark.django_db

API = "/api/v1"

# --- §1 Flow automations (campaigns) -------------------------------------------------------

CREATE_BODY = {
    "name": "Disparo Black Friday",
    "description": "Enviar oferta especial",
    "chatbot_id": 1,
    "flow_id": 2,
    "whatsapp_number_id": 3,
    "trigger_type": "manual",
    "trigger_config": {},
    "audience_type": "custom",
    "audience_config": {"contact_ids": [10, 11]},
    "variable_mapping": {
        "customer_name": "{{contact.name}}",
        "discount": "10%",
        "points": "{{contact.custom_fields.loyalty_points}}",
        "timestamp": "{{contact.created_at}}",
        "company": "{{contact.company}}",
    },
    "max_concurrent_executions": 50,
    "rate_limit_per_hour": 100,
}

AUTOMATION_FIELDS = {
    "status",
    "total_executions",
    "total_sent",
    "total_delivered",
    "total_read",
    "total_replied",
    "total_completed",
    "total_failed",
    "last_executed_at",
    "next_scheduled_at",
}
START_FIELDS = {"id", "automation_id", "execution_type", "status", "total_recipients", "started_at"}


def create_automation(client) -> dict:
    response = client.post(f"{API}/flow-automations", CREATE_BODY, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_1_create_answers_the_request_fields_and_the_automation_fields(alice_client, contract_rows):
    body = create_automation(alice_client)

    assert AUTOMATION_FIELDS <= set(body)
    for name, value in CREATE_BODY.items():
        assert body[name] == value, name
    assert body["status"] == "draft" and body["total_executions"] == 0 and body["next_scheduled_at"] is None
    campaign = Campaign.objects.get(id=body["id"])
    assert (campaign.template_id, campaign.flow_id, [i.id for i in campaign.instances.all()]) == (1, 2, [3])


@pytest.mark.parametrize("start_body", [None, {"test_mode": False, "test_contact_ids": []}])
def test_1_start_with_no_body_or_the_documented_one(start_body, alice_client, contract_rows):
    automation = create_automation(alice_client)

    response = alice_client.post(f"{API}/flow-automations/{automation['id']}/start", start_body, format="json")

    assert response.status_code in (200, 201, 202), response.json()
    body = response.json()
    assert START_FIELDS <= set(body)
    assert (body["automation_id"], body["execution_type"], body["status"], body["total_recipients"]) == (
        automation["id"],
        "manual",
        "queued",
        2,
    )
    assert body["started_at"]
    ana = Recipient.objects.get(execution_id=body["id"], contact_id=10)
    created = Contact.objects.get(id=10).created_at.astimezone(UTC).replace(microsecond=0).isoformat()
    assert ana.variables == {
        "customer_name": "Ana",
        "discount": "10%",
        "points": "120",
        "timestamp": created,
        "company": "ACME",
    }


def test_1_executions_and_recipients_carry_the_old_fields(alice_client, contract_rows):
    automation = create_automation(alice_client)
    started = alice_client.post(f"{API}/flow-automations/{automation['id']}/start").json()
    Recipient.objects.filter(execution_id=started["id"], contact_id=10).update(status="delivered")

    listed = alice_client.get(f"{API}/flow-automations/{automation['id']}/executions").json()["results"]
    recipients = alice_client.get(f"{API}/executions/{started['id']}/recipients").json()["results"]

    execution = listed[0]
    counts = {name: execution[f"messages_{name}"] for name in ("sent", "delivered", "read", "replied", "completed")}
    assert counts == {"sent": 1, "delivered": 1, "read": 0, "replied": 0, "completed": 0}
    assert execution["messages_failed"] == 0
    assert execution["triggered_by"]["username"] == "alice" and "trigger_event" in execution
    assert all({"started_at", "last_retry_at"} <= set(r) for r in recipients) and len(recipients) == 2


def test_1_max_concurrent_executions_limits_live_executions(alice_client, contract_rows):
    body = {**CREATE_BODY, "max_concurrent_executions": 1}
    automation = alice_client.post(f"{API}/flow-automations", body, format="json").json()

    first = alice_client.post(f"{API}/flow-automations/{automation['id']}/start")
    second = alice_client.post(f"{API}/flow-automations/{automation['id']}/start")

    assert first.status_code == 202
    assert second.status_code == 400 and "max_concurrent_executions" in second.json()
    assert Execution.objects.filter(campaign_id=automation["id"]).count() == 1


def test_1_contacts_as_the_bulk_dispatch_screen_creates_them(alice_client, org_a):
    body = {"whatsapp_id": "5511999999999", "name": "João", "email": "j@x.com"}

    created = alice_client.post(f"{API}/contacts", body, format="json")
    got = alice_client.post(f"{API}/contacts", body, format="json")

    assert created.status_code == 201 and got.status_code == 200
    assert created.json()["id"] == got.json()["id"]
    contact = Contact.objects.get(id=created.json()["id"])
    assert (contact.phone, contact.name, contact.email) == ("+5511999999999", "João", "j@x.com")


@pytest.mark.parametrize(
    ("trigger", "recurrence", "next_local"),
    [
        # "start later": once, at that time.
        (
            {"trigger_type": "scheduled", "trigger_config": {"scheduled_at": "2025-11-25T09:00:00-03:00"}},
            "once",
            "2025-11-25T09:00:00-03:00",
        ),
        # Asked on Wednesday 10:00 in São Paulo: Thursday 09:00 next (the campaign's time zone).
        (
            {"trigger_type": "cron", "trigger_config": {"expression": "0 9 * * MON-FRI"}},
            "cron",
            "2025-11-20T09:00:00-03:00",
        ),
    ],
    ids=["scheduled", "cron"],
)
def test_1_scheduled_and_cron_triggers_set_next_scheduled_at(
    trigger, recurrence, next_local, alice_client, contract_rows
):
    with time_machine.travel("2025-11-19T13:00:00Z", tick=False) as clock:
        response = alice_client.post(f"{API}/flow-automations", {**CREATE_BODY, **trigger}, format="json")

        assert response.status_code == 201, response.json()
        body = response.json()
        assert AUTOMATION_FIELDS <= set(body)
        assert (body["trigger_type"], body["trigger_config"]) == (trigger["trigger_type"], trigger["trigger_config"])
        assert body["next_scheduled_at"] == next_local
        assert alice_client.get(f"{API}/flow-automations/{body['id']}").json()["next_scheduled_at"] == next_local
        schedule = alice_client.get(f"{API}/flow-automations/{body['id']}/schedule").json()
        assert (schedule["recurrence_type"], schedule["execution_timezone"]) == (recurrence, "America/Sao_Paulo")

        # It does what it says: the ticker starts the campaign then, for its two contacts.
        clock.move_to(datetime.fromisoformat(next_local) + timedelta(seconds=30))
        assert ticker.tick()["started"] == 1
    execution = Execution.objects.get(campaign_id=body["id"])
    assert (execution.type, execution.total_recipients) == ("scheduled", 2)
    assert execution.trigger_event == datetime.fromisoformat(next_local).astimezone(UTC).isoformat()


def test_1_bad_scheduled_or_cron_triggers_are_400s_naming_the_field(alice_client, contract_rows):
    bad = [
        ({"trigger_type": "scheduled", "trigger_config": {}}, "trigger_config.scheduled_at"),
        ({"trigger_type": "scheduled", "trigger_config": {"scheduled_at": "amanhã"}}, "trigger_config.scheduled_at"),
        ({"trigger_type": "cron", "trigger_config": {"expression": "0 25 * * *"}}, "trigger_config.expression"),
    ]
    for trigger, field in bad:
        response = alice_client.post(f"{API}/flow-automations", {**CREATE_BODY, **trigger}, format="json")
        assert response.status_code == 400 and field in response.json(), (trigger, response.json())
    assert not Campaign.objects.exists()


# --- §2 Schedules ---------------------------------------------------------------------------
# In tests/contract/test_seed_contract_schedules.py (every body of §2 and worked examples 1–9),
# kept apart so each module stays readable.


# --- §3 Chatbot flow design -------------------------------------------------------------------


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


# --- §4 Settings, bot controls, analytics, backup ---------------------------------------------


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

    exported = alice_client.get(f"{API}/export/flows/1?format=legacy").json()

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


# --- §5 GOSAC inbound webhook ------------------------------------------------------------------


@pytest.fixture
def gosac_number(org_a, contract_rows, fake_provider):
    for key in ("DEBOUNCE_TIME", "MESSAGE_COOLDOWN"):
        SystemSetting.objects.create(organization=org_a, key=key, value="0", value_type="number")
    return WhatsAppInstance.objects.create(
        organization=org_a,
        name="GOSAC",
        provider=WhatsAppInstance.Provider.GOSAC,
        base_url=fake_provider.url,
        api_key="gosac-token",
        integration_key="integration",
        connection_state="open",
    )


def gosac_body(**ticket):
    return {
        "type": "messages:created",
        "data": {
            "body": "Oi",
            "mediaType": "chat",
            "mediaUrl": None,
            "mediaPath": None,
            "fromMe": False,
            "fromGroup": False,
            "ticketId": 7001,
            "contactId": 24914,
            "contact": {"name": "Maria Souza", "number": "5511988887777"},
            "ticket": {"status": "open", "userId": None, **ticket},
        },
    }


@pytest.fixture
def eager(settings):
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.mark.usefixtures("eager")
def test_5_an_open_ticket_is_answered_a_closed_or_taken_one_is_not(anon_client, gosac_number, fake_provider):
    url = f"/api/webhooks/gosac/{gosac_number.webhook_secret}/"

    with time_machine.travel("2026-03-10 10:00:00 -03:00", tick=False):
        answered = anon_client.post(url, gosac_body(), format="json")
        again = anon_client.post(url, gosac_body(), format="json")  # a redelivery: no id in the body
    with time_machine.travel("2026-03-10 10:05:00 -03:00", tick=False):
        closed_body, taken_body = gosac_body(status="closed"), gosac_body(userId=12)
        closed_body["data"]["body"], taken_body["data"]["body"] = "Alô?", "Quero um atendente"
        closed = anon_client.post(url, closed_body, format="json")
        taken = anon_client.post(url, taken_body, format="json")

    assert answered.json() == {"status": "accepted", "reason": "queued"}
    assert again.json() == {"status": "ignored", "reason": "duplicate"}
    assert closed.json() == {"status": "ignored", "reason": "ticket_closed"}
    assert taken.json() == {"status": "ignored", "reason": "ticket_taken_by_a_person"}
    sends = fake_provider.requests_to(r"^/send-message$")
    assert [r.json["contact_id"] for r in sends] == ["24914"]
    conversation = Conversation.objects.get()
    assert (conversation.external_ticket_status, conversation.external_ticket_user_id) == ("open", "12")
