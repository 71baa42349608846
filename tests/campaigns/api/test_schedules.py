"""`/api/v1/flow-automations/{id}/schedule…`: the contract's bodies, errors naming the field, tenancy."""

import pytest
import time_machine

from campaigns.models import Campaign, Execution, Schedule, ScheduleException, ScheduleRun
from tests.factories.campaigns import CampaignFactory, make_flow
from tests.factories.contacts import ContactFactory
from tests.factories.instances import WhatsAppInstanceFactory

NOW = "2025-11-19T12:00:00Z"
WEEKLY = {
    "recurrence_type": "weekly",
    "start_date": "2025-11-20T09:00:00Z",
    "start_time": "09:00:00",
    "recurrence_config": {"type": "weekly", "days": ["MON", "WED", "FRI"], "interval": 1},
    "execution_window_start": "09:00:00",
    "execution_window_end": "18:00:00",
    "execution_timezone": "America/Sao_Paulo",
    "skip_weekends": False,
    "skip_holidays": True,
    "is_active": True,
}
CONTRACT_FIELDS = (
    "id automation_id organization_id recurrence_type start_date start_time end_date recurrence_config "
    "execution_window_start execution_window_end execution_timezone blackout_dates skip_weekends skip_holidays "
    "is_active is_paused last_executed_at next_scheduled_at execution_count created_at updated_at"
).split()


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def campaign(org_a):
    ContactFactory(organization=org_a)
    return CampaignFactory(organization=org_a)


def url(campaign, tail=""):
    return f"/api/v1/flow-automations/{campaign.id}/schedule{tail}"


def test_it_creates_the_contracts_weekly_schedule(alice_client, campaign):
    response = alice_client.post(url(campaign), WEEKLY, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(CONTRACT_FIELDS) <= set(body)
    assert body["automation_id"] == campaign.id and body["organization_id"] == campaign.organization_id
    assert body["start_date"] == "2025-11-20" and body["start_time"] == "09:00:00"
    assert body["recurrence_config"] == {"type": "weekly", "days": ["MON", "WED", "FRI"], "interval": 1}
    assert body["next_scheduled_at"] == "2025-11-21T12:00:00Z"  # Friday; Thursday the 20th is not in the days
    schedule = Schedule.objects.get(campaign=campaign)
    assert schedule.skip_holidays and schedule.execution_timezone == "America/Sao_Paulo"
    assert (
        alice_client.get(f"/api/v1/flow-automations/{campaign.id}")
        .json()["next_scheduled_at"]
        .startswith("2025-11-21T09:00:00")
    )


def test_get_put_and_delete(alice_client, campaign):
    alice_client.post(url(campaign), WEEKLY, format="json")

    assert alice_client.get(url(campaign)).json()["recurrence_type"] == "weekly"
    response = alice_client.put(
        url(campaign), {"recurrence_type": "daily", "recurrence_config": {"interval": 2}}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["next_scheduled_at"] == "2025-11-22T12:00:00Z"  # from the 20th (a holiday), every 2nd day
    assert alice_client.delete(url(campaign)).status_code == 204
    assert not Schedule.objects.exists()
    assert alice_client.get(url(campaign)).status_code == 404


def test_one_schedule_per_automation(alice_client, campaign):
    alice_client.post(url(campaign), WEEKLY, format="json")
    response = alice_client.post(url(campaign), WEEKLY, format="json")
    assert response.status_code == 400 and "schedule" in response.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"recurrence_type": "cron", "recurrence_config": {"expression": "0 9 * * MON-FOO"}},
            "recurrence_config.expression",
        ),
        (
            {"recurrence_type": "cron", "recurrence_config": {"expression": "61 9 * * *"}},
            "recurrence_config.expression",
        ),
        ({"recurrence_config": {"days": ["MON", "XYZ"]}}, "recurrence_config.days[1]"),
        ({"recurrence_config": {"days": ["MON"], "interval": 0}}, "recurrence_config.interval"),
        ({"recurrence_config": {"days": ["MON"], "hours": 3}}, "recurrence_config.hours"),
        ({"recurrence_type": "monthly", "recurrence_config": {"day": 32}}, "recurrence_config.day"),
        (
            {"recurrence_type": "custom", "recurrence_config": {"dates": ["2025-11-25T09:00:00Z", "amanhã"]}},
            "recurrence_config.dates[1]",
        ),
        ({"recurrence_type": "yearly"}, "recurrence_type"),
        ({"execution_timezone": "Mars/Olympus"}, "execution_timezone"),
        ({"end_date": "2025-11-01"}, "end_date"),
        ({"start_date": "20/11/2025"}, "start_date"),
        ({"execution_window_end": None}, "execution_window_end"),
        ({"blackout_dates": ["2025-12-25", "natal"]}, "blackout_dates[1]"),
        ({"holiday_subdivision": "XX"}, "holiday_subdivision"),
        ({"overlap_policy": "queue"}, "overlap_policy"),
        ({"catchup_window": "1h"}, "catchup_window"),
        ({"skip_holidays": "yes"}, "skip_holidays"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(alice_client, campaign, change, field):
    response = alice_client.post(url(campaign), {**WEEKLY, **change}, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert not Schedule.objects.exists()


def test_croniters_reason_is_in_the_message(alice_client, campaign):
    body = {**WEEKLY, "recurrence_type": "cron", "recurrence_config": {"expression": "0 25 * * *"}}
    message = alice_client.post(url(campaign), body, format="json").json()["recurrence_config.expression"]
    assert "25" in str(message)


def test_a_once_schedule_on_a_holiday_is_refused_naming_the_date_and_why(alice_client, campaign):
    body = {"recurrence_type": "once", "start_date": "2025-11-20", "start_time": "10:00", "skip_holidays": True}
    response = alice_client.post(url(campaign), body, format="json")

    assert response.status_code == 400
    message = str(response.json()["start_date"])
    assert "2025-11-20T13:00:00+00:00" in message and "National Day of Zumbi and Black Awareness" in message


def test_exceptions_create_list_delete_and_show_in_the_preview(alice_client, campaign):
    daily = {"recurrence_type": "daily", "start_date": "2025-11-01", "start_time": "09:00:00", "skip_holidays": True}
    schedule_id = alice_client.post(url(campaign), daily, format="json").json()["id"]
    skip = {
        "schedule_id": schedule_id,
        "exception_type": "skip",
        "start_date": "2025-11-25T00:00:00Z",
        "end_date": "2025-11-26T23:59:59Z",
        "reason": "Black Friday",
    }
    move = {
        "exception_type": "reschedule",
        "start_date": "2025-11-24T09:00:00Z",
        "rescheduled_to": "2025-11-27T14:00:00Z",
    }
    modify = {
        "exception_type": "modify",
        "start_date": "2025-11-27T00:00:00Z",
        "end_date": "2025-11-27T23:59:59Z",
        "modified_config": {"rate_limit_per_hour": 3000, "max_concurrent_executions": 150},
    }
    created = [alice_client.post(url(campaign, "/exceptions"), body, format="json") for body in (skip, move, modify)]
    assert [r.status_code for r in created] == [201, 201, 201], [r.json() for r in created]
    assert set("id schedule_id exception_type start_date end_date reason created_at".split()) <= set(created[0].json())
    assert len(alice_client.get(url(campaign, "/exceptions")).json()) == 3

    preview = alice_client.get(url(campaign, "/preview?num_executions=5&days_ahead=30")).json()
    assert preview["automation_id"] == campaign.id and preview["schedule_id"] == schedule_id
    runs = [(e["scheduled_at"], e["rescheduled"], e["modified_config"]) for e in preview["next_executions"]]
    assert runs == [
        ("2025-11-21T12:00:00Z", False, {}),
        ("2025-11-22T12:00:00Z", False, {}),
        ("2025-11-23T12:00:00Z", False, {}),
        ("2025-11-27T12:00:00Z", False, {"rate_limit_per_hour": 3000, "max_concurrent_executions": 150}),
        ("2025-11-27T14:00:00Z", True, {"rate_limit_per_hour": 3000, "max_concurrent_executions": 150}),
    ]
    assert preview["next_executions"][0]["timezone"] == "America/Sao_Paulo"
    assert preview["skipped"] == [
        {
            "scheduled_at": "2025-11-20T12:00:00Z",
            "reason": "holiday",
            "detail": "National Day of Zumbi and Black Awareness",
        },
        {"scheduled_at": "2025-11-25T12:00:00Z", "reason": "exception", "detail": "Black Friday"},
        {"scheduled_at": "2025-11-26T12:00:00Z", "reason": "exception", "detail": "Black Friday"},
    ]

    exception_id = created[0].json()["id"]
    assert alice_client.delete(url(campaign, f"/exceptions/{exception_id}")).status_code == 204
    assert not ScheduleException.objects.filter(id=exception_id).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"exception_type": "postpone", "start_date": "2025-11-25T00:00:00Z"}, "exception_type"),
        ({"exception_type": "skip", "start_date": "2025-11-25T00:00:00Z"}, "end_date"),
        ({"exception_type": "skip", "start_date": "2025-11-25", "end_date": "2025-11-24"}, "end_date"),
        ({"exception_type": "reschedule", "start_date": "2025-11-25T09:00:00Z"}, "rescheduled_to"),
        (
            {
                "exception_type": "modify",
                "start_date": "2025-11-25",
                "end_date": "2025-11-26",
                "modified_config": {"flow": 1},
            },
            "modified_config.flow",
        ),
        (
            {
                "exception_type": "modify",
                "start_date": "2025-11-25",
                "end_date": "2025-11-26",
                "modified_config": {"rate_limit_per_hour": -5},
            },
            "modified_config.rate_limit_per_hour",
        ),
        (
            {"exception_type": "skip", "start_date": "2025-11-25", "end_date": "2025-11-26", "reason": "a\x00b"},
            "reason",
        ),
        (
            {"exception_type": "skip", "start_date": "2025-11-25", "end_date": "2025-11-26", "schedule_id": 999},
            "schedule_id",
        ),
    ],
)
def test_bad_exceptions_are_a_400_naming_the_field(alice_client, campaign, body, field):
    alice_client.post(url(campaign), WEEKLY, format="json")
    response = alice_client.post(url(campaign, "/exceptions"), body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()


@pytest.mark.parametrize(
    "query", ["num_executions=0", "num_executions=101", "days_ahead=0", "days_ahead=731", "days_ahead=x"]
)
def test_preview_bounds(alice_client, campaign, query):
    alice_client.post(url(campaign), WEEKLY, format="json")
    response = alice_client.get(url(campaign, f"/preview?{query}"))
    assert response.status_code == 400 and query.split("=")[0] in response.json()


def test_pause_resume_trigger_backfill_and_runs(alice_client, campaign, clock):
    daily = {"recurrence_type": "daily", "start_date": "2025-11-10", "start_time": "09:00:00"}
    alice_client.post(url(campaign), daily, format="json")

    paused = alice_client.post(url(campaign, "/pause"), {"note": "Feriado prolongado"}, format="json").json()
    assert paused["is_paused"] and paused["pause_note"] == "Feriado prolongado"
    resumed = alice_client.post(url(campaign, "/resume"), format="json").json()
    assert not resumed["is_paused"] and resumed["next_scheduled_at"] == "2025-11-20T12:00:00Z"

    triggered = alice_client.post(url(campaign, "/trigger"), format="json")
    assert triggered.status_code == 202 and triggered.json()["kind"] == "manual"
    execution = Execution.objects.get(id=triggered.json()["execution_id"])
    assert execution.type == "scheduled" and execution.trigger_event == "2025-11-19T12:00:00+00:00"

    backfill = alice_client.post(
        url(campaign, "/backfill"), {"start": "2025-11-15T00:00:00Z", "end": "2025-11-17T23:59:59Z"}, format="json"
    )
    assert backfill.status_code == 202 and backfill.json()["queued"] == 3
    assert alice_client.post(url(campaign, "/backfill"), {"start": "2025-11-15"}, format="json").status_code == 400
    future = {"start": "2025-11-15T00:00:00Z", "end": "2025-12-17T00:00:00Z"}
    assert "end" in alice_client.post(url(campaign, "/backfill"), future, format="json").json()

    runs = alice_client.get(url(campaign, "/runs")).json()["results"]
    assert [(r["kind"], r["status"]) for r in runs] == [("manual", "started")] + [("backfill", "buffered")] * 3
    assert ScheduleRun.objects.filter(status="buffered").count() == 3


def test_tenancy_and_roles(alice_client, vera_client, charlie_client, campaign):
    assert alice_client.post(url(campaign), WEEKLY, format="json").status_code == 201

    assert charlie_client.get(url(campaign)).status_code == 404
    assert charlie_client.post(url(campaign, "/trigger"), format="json").status_code == 404
    assert charlie_client.get(url(campaign, "/preview")).status_code == 404
    assert vera_client.get(url(campaign, "/preview")).status_code == 200
    assert vera_client.post(url(campaign, "/pause"), {}, format="json").status_code == 403
    assert vera_client.delete(url(campaign)).status_code == 403
    assert Schedule.objects.filter(is_paused=False).count() == 1


# --- trigger_type on the automation itself ------------------------------------------------


@pytest.fixture
def automation(org_a):
    flow = make_flow(org_a)
    instance = WhatsAppInstanceFactory(organization=org_a)
    contact = ContactFactory(organization=org_a)
    return {
        "name": "Disparo Black Friday",
        "chatbot_id": flow.template_id,
        "flow_id": flow.id,
        "whatsapp_number_id": instance.id,
        "audience_type": "custom",
        "audience_config": {"contact_ids": [contact.id]},
    }


def test_trigger_scheduled_creates_a_once_schedule(alice_client, automation):
    body = {**automation, "trigger_type": "scheduled", "trigger_config": {"scheduled_at": "2025-11-21T10:30:00-03:00"}}
    response = alice_client.post("/api/v1/flow-automations", body, format="json")

    assert response.status_code == 201, response.json()
    schedule = Schedule.objects.get(campaign_id=response.json()["id"])
    assert schedule.recurrence_type == "once" and str(schedule.next_scheduled_at) == "2025-11-21 13:30:00+00:00"
    assert response.json()["next_scheduled_at"] is not None


def test_trigger_cron_creates_and_updates_a_cron_schedule(alice_client, automation):
    body = {**automation, "trigger_type": "cron", "trigger_config": {"expression": "0 9 * * MON-FRI"}}
    campaign_id = alice_client.post("/api/v1/flow-automations", body, format="json").json()["id"]
    schedule = Schedule.objects.get(campaign_id=campaign_id)
    assert schedule.recurrence_config["expression"] == "0 9 * * MON-FRI"
    assert str(schedule.next_scheduled_at) == "2025-11-20 12:00:00+00:00"

    response = alice_client.patch(
        f"/api/v1/flow-automations/{campaign_id}", {"trigger_config": {"expression": "30 14 * * SAT"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    schedule.refresh_from_db()
    assert str(schedule.next_scheduled_at) == "2025-11-22 17:30:00+00:00"


@pytest.mark.parametrize(
    ("trigger", "field"),
    [
        ({"trigger_type": "scheduled", "trigger_config": {}}, "trigger_config.scheduled_at"),
        ({"trigger_type": "scheduled", "trigger_config": {"scheduled_at": "amanhã"}}, "trigger_config.scheduled_at"),
        (
            {"trigger_type": "scheduled", "trigger_config": {"scheduled_at": "2025-11-01T10:00:00Z"}},
            "trigger_config.scheduled_at",
        ),
        ({"trigger_type": "cron", "trigger_config": {"expression": "every day"}}, "trigger_config.expression"),
        ({"trigger_type": "webhook", "trigger_config": {"event": "payment overdue!"}}, "trigger_config"),
    ],
)
def test_bad_triggers_are_a_400_naming_the_field(alice_client, automation, trigger, field):
    response = alice_client.post("/api/v1/flow-automations", {**automation, **trigger}, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Campaign.objects.exists() and not Schedule.objects.exists()


def test_deleting_the_automation_stops_its_schedule(alice_client, campaign):
    alice_client.post(url(campaign), WEEKLY, format="json")
    assert alice_client.delete(f"/api/v1/flow-automations/{campaign.id}").status_code == 204
    assert not Schedule.objects.get(campaign=campaign).is_active


@pytest.mark.parametrize(
    "leaving_for",
    [{"trigger_type": "manual"}, {"trigger_type": "webhook", "trigger_config": {"event": "payment.overdue"}}],
)
def test_leaving_a_cron_trigger_turns_its_schedule_off_and_coming_back_turns_it_on(
    alice_client, automation, leaving_for
):
    body = {**automation, "trigger_type": "cron", "trigger_config": {"expression": "0 9 * * MON-FRI"}}
    campaign_id = alice_client.post("/api/v1/flow-automations", body, format="json").json()["id"]
    schedule = Schedule.objects.get(campaign_id=campaign_id)

    answer = alice_client.patch(f"/api/v1/flow-automations/{campaign_id}", leaving_for, format="json")
    assert answer.status_code == 200, answer.json()
    schedule.refresh_from_db()
    assert not schedule.is_active, "a manual or webhook campaign must not go on starting by the clock"
    assert answer.json()["next_scheduled_at"] is None

    back = {"trigger_type": "cron", "trigger_config": {"expression": "30 14 * * SAT"}}
    answer = alice_client.patch(f"/api/v1/flow-automations/{campaign_id}", back, format="json")
    schedule.refresh_from_db()
    assert schedule.is_active and str(schedule.next_scheduled_at) == "2025-11-22 17:30:00+00:00"
    assert answer.json()["next_scheduled_at"] is not None


def test_a_schedule_made_through_the_schedule_api_on_a_manual_campaign_stays(alice_client, campaign):
    alice_client.post(url(campaign), WEEKLY, format="json")
    answer = alice_client.patch(
        f"/api/v1/flow-automations/{campaign.id}", {"trigger_type": "manual", "name": "x"}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert Schedule.objects.get(campaign=campaign).is_active
