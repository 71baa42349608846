"""§2 of the inherited contract (Schedules): each body as written, each answer field checked.

The ids are the contract's: the automation the §1 body creates is 1 and its schedule 7
(`contract_ids` points the sequences there), so the exception body's `"schedule_id": 7`
and the preview's `"automation_id": 1, "schedule_id": 7` are sent and compared as printed.
Expected dates are the real calendar's: 2025-11-20 is a Thursday and a national holiday in
Brazil (Consciência Negra); São Paulo is UTC-3 all year, so 09:00 there is 12:00Z.
The clock is frozen (time_machine) at `NOW` unless a test says otherwise.
"""

import pytest

from tests.support.contract import (
    API,
    EXCEPTION_FIELDS,
    MODIFY_BODY,
    RESCHEDULE_BODY,
    SCHEDULE,
    SCHEDULE_FIELDS,
    SKIP_BODY,
    WEEKLY_BODY,
    WEEKLY_DATES,
    at,
    post_exception,
    post_schedule,
    preview,
    scheduled,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


# --- the schedule: POST, GET, PUT, DELETE on one path ---------------------------------------


def test_2_post_the_weekly_schedule_answers_every_field(alice_client, automation, org_a):
    body = post_schedule(alice_client, WEEKLY_BODY)

    assert {name: body[name] for name in SCHEDULE_FIELDS} == {
        "id": 7,
        "automation_id": 1,
        "organization_id": org_a.id,
        "recurrence_type": "weekly",
        "start_date": "2025-11-20",
        "start_time": "09:00:00",
        "end_date": None,
        "recurrence_config": {"type": "weekly", "days": ["MON", "WED", "FRI"], "interval": 1},
        "execution_window_start": "09:00:00",
        "execution_window_end": "18:00:00",
        "execution_timezone": "America/Sao_Paulo",
        "blackout_dates": [],
        "skip_weekends": False,
        "skip_holidays": True,
        "is_active": True,
        "is_paused": False,
        "last_executed_at": None,
        "next_scheduled_at": "2025-11-21T12:00:00Z",  # Friday 09:00 in São Paulo
        "execution_count": 0,
        "created_at": "2025-11-19T13:00:00Z",
        "updated_at": "2025-11-19T13:00:00Z",
    }
    campaign = alice_client.get(f"{API}/flow-automations/1").json()
    assert campaign["next_scheduled_at"] == "2025-11-21T09:00:00-03:00"


def test_2_get_put_and_delete_on_the_same_path(alice_client, automation, clock):
    created = post_schedule(alice_client, WEEKLY_BODY)

    got = alice_client.get(SCHEDULE)
    assert got.status_code == 200 and got.json() == created

    clock.move_to("2025-11-19T14:00:00Z")
    changed_body = {**WEEKLY_BODY, "start_time": "10:00:00", "recurrence_config": {"days": ["TUE", "THU"]}}
    changed = alice_client.put(SCHEDULE, changed_body, format="json")
    assert changed.status_code == 200, changed.json()
    body = changed.json()
    assert SCHEDULE_FIELDS <= set(body)
    assert (body["id"], body["automation_id"], body["start_time"]) == (7, 1, "10:00:00")
    assert body["recurrence_config"] == {"type": "weekly", "days": ["TUE", "THU"], "interval": 1}
    # Thursday the 20th is the holiday, skipped: Tuesday the 25th at 10:00 in São Paulo.
    assert body["next_scheduled_at"] == "2025-11-25T13:00:00Z"
    assert (body["created_at"], body["updated_at"]) == ("2025-11-19T13:00:00Z", "2025-11-19T14:00:00Z")
    assert alice_client.get(SCHEDULE).json() == body

    assert alice_client.delete(SCHEDULE).status_code == 204
    assert alice_client.get(SCHEDULE).status_code == 404
    assert alice_client.get(f"{API}/flow-automations/1").json()["next_scheduled_at"] is None


# --- recurrence_config by type -------------------------------------------------------------

CONFIGS = {
    # type: (recurrence_config as the contract prints it, the preview's first scheduled_at)
    "daily": ({"interval": 1}, at(["2025-11-21", "2025-11-22", "2025-11-23"])),  # the 20th is the holiday
    "weekly": ({"days": ["MON", "WED", "FRI"], "interval": 1}, at(WEEKLY_DATES[:3])),
    # Day 15 from the 20th of November: December, January, and February within 90 days.
    "monthly": ({"day": 15, "interval": 1}, at(["2025-12-15", "2026-01-15", "2026-02-15"])),
    "cron": ({"expression": "0 9 * * MON-FRI"}, at(["2025-11-21", "2025-11-24", "2025-11-25"])),
    # 06:00 and 07:00 in São Paulo are before the 09:00–18:00 window: they run when it opens.
    "custom": (
        {"dates": ["2025-11-25T09:00:00Z", "2025-11-26T14:00:00Z", "2025-12-01T10:00:00Z"]},
        ["2025-11-25T12:00:00Z", "2025-11-26T14:00:00Z", "2025-12-01T12:00:00Z"],
    ),
}


@pytest.mark.parametrize("with_type", [False, True], ids=["bare", "with-type"])
@pytest.mark.parametrize("kind", list(CONFIGS))
def test_2_each_recurrence_config_shape(kind, with_type, alice_client, automation):
    config, expected = CONFIGS[kind]
    sent = {"type": kind, **config} if with_type else config

    body = post_schedule(alice_client, {**WEEKLY_BODY, "recurrence_type": kind, "recurrence_config": sent})

    assert body["recurrence_type"] == kind
    assert body["recurrence_config"] == {"type": kind, **config}
    assert body["next_scheduled_at"] == expected[0]
    shown = preview(alice_client)
    assert scheduled(shown)[: len(expected)] == expected
    assert {e["recurrence_type"] for e in shown["next_executions"]} == {kind}


def test_2_custom_is_its_dates_alone(alice_client, automation):
    body = {"recurrence_type": "custom", "recurrence_config": CONFIGS["custom"][0]}

    created = post_schedule(alice_client, body)

    assert (created["start_date"], created["next_scheduled_at"]) == ("2025-11-25", "2025-11-25T09:00:00Z")
    assert scheduled(preview(alice_client)) == CONFIGS["custom"][0]["dates"]


def test_2_every_bad_field_of_a_schedule_in_one_400(alice_client, automation):
    body = {
        **WEEKLY_BODY,
        "recurrence_type": "cron",
        "recurrence_config": {"expression": "0 25 * * *"},
        "execution_timezone": "America/Sao_Pablo",
    }

    response = alice_client.post(SCHEDULE, body, format="json")

    assert response.status_code == 400
    assert {"recurrence_config.expression", "execution_timezone"} <= set(response.json())


def test_2_once_is_start_date_alone(alice_client, automation):
    once = {name: value for name, value in WEEKLY_BODY.items() if name not in ("start_time", "recurrence_config")}
    once |= {"recurrence_type": "once", "start_date": "2025-11-21T12:00:00Z"}

    body = post_schedule(alice_client, once)

    assert (body["recurrence_type"], body["start_date"], body["start_time"]) == ("once", "2025-11-21", "09:00:00")
    assert body["next_scheduled_at"] == "2025-11-21T12:00:00Z"
    assert scheduled(preview(alice_client)) == ["2025-11-21T12:00:00Z"]


# --- exceptions ----------------------------------------------------------------------------


def test_2_the_three_exception_bodies_and_delete(alice_client, automation):
    post_schedule(alice_client, WEEKLY_BODY)

    skip = post_exception(alice_client, SKIP_BODY)
    reschedule = post_exception(alice_client, RESCHEDULE_BODY)
    modify = post_exception(alice_client, MODIFY_BODY)

    assert {name: skip[name] for name in EXCEPTION_FIELDS - {"id"}} == {
        "schedule_id": 7,
        "exception_type": "skip",
        "start_date": "2025-11-25T00:00:00Z",
        "end_date": "2025-11-26T23:59:59Z",
        "reason": "Black Friday",
        "created_at": "2025-11-19T13:00:00Z",
    }
    assert {name: reschedule[name] for name in ("schedule_id", "exception_type", "start_date", "end_date")} == {
        "schedule_id": 7,
        "exception_type": "reschedule",
        "start_date": "2025-11-24T09:00:00Z",
        "end_date": None,
    }
    assert (reschedule["reason"], reschedule["rescheduled_to"]) == ("…", "2025-11-25T14:00:00Z")
    assert (modify["exception_type"], modify["start_date"], modify["end_date"]) == (
        "modify",
        "2025-11-25T00:00:00Z",
        "2025-11-26T23:59:59Z",
    )
    assert modify["modified_config"] == MODIFY_BODY["modified_config"]
    assert len({skip["id"], reschedule["id"], modify["id"]}) == 3

    for exception in (skip, reschedule, modify):
        response = alice_client.delete(f"{SCHEDULE}/exceptions/{exception['id']}")
        assert response.status_code == 204
        assert alice_client.delete(f"{SCHEDULE}/exceptions/{exception['id']}").status_code == 404
    assert alice_client.get(f"{SCHEDULE}/exceptions").json() == []
    assert scheduled(preview(alice_client)) == at(WEEKLY_DATES)  # back to the plain calendar


def test_2_an_exception_for_another_schedule_id_is_a_400_naming_it(alice_client, automation):
    post_schedule(alice_client, WEEKLY_BODY)

    response = alice_client.post(f"{SCHEDULE}/exceptions", {**SKIP_BODY, "schedule_id": 8}, format="json")

    assert response.status_code == 400 and "schedule_id" in response.json()


# --- the preview -----------------------------------------------------------------------------


def test_2_preview_answers_the_contracts_body(alice_client, automation):
    post_schedule(alice_client, WEEKLY_BODY)

    body = preview(alice_client)

    assert (
        body["next_executions"][0].items()
        >= {
            "scheduled_at": "2025-11-21T12:00:00Z",
            "recurrence_type": "weekly",
            "execution_window": {"start": "09:00:00", "end": "18:00:00"},
            "timezone": "America/Sao_Paulo",
        }.items()
    )
    assert scheduled(body) == at(WEEKLY_DATES)
    assert all(e["execution_window"] == {"start": "09:00:00", "end": "18:00:00"} for e in body["next_executions"])
