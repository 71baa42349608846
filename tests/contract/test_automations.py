"""§1 of the inherited contract (flow automations, contacts): each body as written, answer fields checked."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from campaigns.models import Campaign, Execution, Recipient
from campaigns.schedules import ticker
from contacts.models import Contact
from tests.support.contract import API, AUTOMATION_FIELDS, CREATE_BODY, START_FIELDS, create_automation

pytestmark = pytest.mark.django_db


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


def test_1_the_old_dispatch_modals_schedule_body(alice_client, contract_rows):
    # No trigger_config: the modal sends the time beside trigger_type.
    body = {name: value for name, value in CREATE_BODY.items() if name != "trigger_config"}
    body |= {"trigger_type": "scheduled", "scheduled_at": "2025-11-25T09:00:00-03:00"}
    without_time = {name: value for name, value in body.items() if name != "scheduled_at"}

    with time_machine.travel("2025-11-19T13:00:00Z", tick=False):
        response = alice_client.post(f"{API}/flow-automations", body, format="json")
        refused = alice_client.post(f"{API}/flow-automations", without_time, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["next_scheduled_at"] == "2025-11-25T09:00:00-03:00"
    assert refused.status_code == 400 and "trigger_config.scheduled_at" in refused.json()


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
