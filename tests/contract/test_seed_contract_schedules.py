"""§2 of the inherited contract (Schedules): each body as written, each answer field checked.

The ids are the contract's: the automation the §1 body creates is 1 and its schedule 7
(`contract_ids` points the sequences there), so the exception body's `"schedule_id": 7`
and the preview's `"automation_id": 1, "schedule_id": 7` are sent and compared as printed.
Expected dates are the real calendar's: 2025-11-20 is a Thursday and a national holiday in
Brazil (Consciência Negra); São Paulo is UTC-3 all year, so 09:00 there is 12:00Z.
The clock is frozen (time_machine) at `NOW` unless a test says otherwise.
"""

import pytest
import time_machine
from django.db import connection

from campaigns.models import Campaign, Execution, Schedule
from campaigns.schedules import ticker
from tests.contract.test_seed_contract import API, create_automation

pytestmark = pytest.mark.django_db

NOW = "2025-11-19T13:00:00Z"  # Wednesday 10:00 in São Paulo, the day before the contract's start_date
SCHEDULE = f"{API}/flow-automations/1/schedule"
PREVIEW = f"{SCHEDULE}/preview?num_executions=10&days_ahead=90"

WEEKLY_BODY = {
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
SCHEDULE_FIELDS = set(
    "id automation_id organization_id recurrence_type start_date start_time end_date recurrence_config "
    "execution_window_start execution_window_end execution_timezone blackout_dates skip_weekends skip_holidays "
    "is_active is_paused last_executed_at next_scheduled_at execution_count created_at updated_at".split()
)
SKIP_BODY = {
    "schedule_id": 7,
    "exception_type": "skip",
    "start_date": "2025-11-25T00:00:00Z",
    "end_date": "2025-11-26T23:59:59Z",
    "reason": "Black Friday",
}
RESCHEDULE_BODY = {
    "exception_type": "reschedule",
    "start_date": "2025-11-24T09:00:00Z",
    "rescheduled_to": "2025-11-25T14:00:00Z",
    "reason": "…",
}
MODIFY_BODY = {
    "exception_type": "modify",
    "start_date": "2025-11-25T00:00:00Z",
    "end_date": "2025-11-26T23:59:59Z",
    "modified_config": {"rate_limit_per_hour": 3000, "max_concurrent_executions": 150},
}
EXCEPTION_FIELDS = {"id", "schedule_id", "exception_type", "start_date", "end_date", "reason", "created_at"}
# MON/WED/FRI at 09:00 in São Paulo from Thursday 2025-11-20 (not one of the days).
WEEKLY_DATES = ["2025-11-21", "2025-11-24", "2025-11-26", "2025-11-28"] + [
    f"2025-12-{day:02d}" for day in (1, 3, 5, 8, 10, 12)
]


def at(days: list[str], clock: str = "12:00:00") -> list[str]:
    return [f"{day}T{clock}Z" for day in days]


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def contract_ids(db):
    """The next automation gets id 1 and the next schedule id 7, as the contract's examples have them."""
    with connection.cursor() as cursor:
        for model, next_id in ((Campaign, 1), (Schedule, 7)):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s, false)", [next_id])


@pytest.fixture
def automation(alice_client, contract_rows, contract_ids) -> dict:
    body = create_automation(alice_client)
    assert body["id"] == 1
    return body


def post_schedule(client, body: dict) -> dict:
    response = client.post(SCHEDULE, body, format="json")
    assert response.status_code == 201, response.json()
    assert SCHEDULE_FIELDS <= set(response.json())
    return response.json()


def preview(client) -> dict:
    response = client.get(PREVIEW)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["automation_id"], body["schedule_id"]) == (1, 7)
    for entry in body["next_executions"]:
        assert {"scheduled_at", "recurrence_type", "execution_window", "timezone"} <= set(entry)
    return body


def scheduled(body: dict) -> list[str]:
    return [entry["scheduled_at"] for entry in body["next_executions"]]


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


def test_2_once_is_start_date_alone(alice_client, automation):
    once = {name: value for name, value in WEEKLY_BODY.items() if name not in ("start_time", "recurrence_config")}
    once |= {"recurrence_type": "once", "start_date": "2025-11-21T12:00:00Z"}

    body = post_schedule(alice_client, once)

    assert (body["recurrence_type"], body["start_date"], body["start_time"]) == ("once", "2025-11-21", "09:00:00")
    assert body["next_scheduled_at"] == "2025-11-21T12:00:00Z"
    assert scheduled(preview(alice_client)) == ["2025-11-21T12:00:00Z"]


# --- exceptions ----------------------------------------------------------------------------


def post_exception(client, body: dict) -> dict:
    response = client.post(f"{SCHEDULE}/exceptions", body, format="json")
    assert response.status_code == 201, response.json()
    assert EXCEPTION_FIELDS <= set(response.json())
    return response.json()


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


# --- the old docs' worked examples 1–9, from the real calendar ------------------------------

SP = {"execution_timezone": "America/Sao_Paulo"}
EXAMPLES = {
    # name: (clock, schedule body, the preview's scheduled_at)
    # 1. Daily at 09:00 from the 20th, asked at 10:00 on the 20th: today's has passed.
    "1-daily": (
        "2025-11-20T13:00:00Z",
        {"recurrence_type": "daily", "start_date": "2025-11-20", "start_time": "09:00:00"}
        | {"recurrence_config": {"interval": 1}, **SP},
        at([f"2025-11-{day}" for day in range(21, 31)]),
    ),
    # 2. Weekly MON/WED/FRI at 14:00 from Thursday the 20th: Friday the 21st first.
    "2-weekly": (
        NOW,
        {"recurrence_type": "weekly", "start_date": "2025-11-20", "start_time": "14:00:00"}
        | {"recurrence_config": {"days": ["MON", "WED", "FRI"], "interval": 1}, **SP},
        at(WEEKLY_DATES, "17:00:00"),
    ),
    # 3. Monthly on the 15th at 10:00 from Saturday 2025-11-15: three within 90 days.
    "3-monthly": (
        "2025-11-14T12:00:00Z",
        {"recurrence_type": "monthly", "start_date": "2025-11-15", "start_time": "10:00:00"}
        | {"recurrence_config": {"day": 15, "interval": 1}, **SP},
        at(["2025-11-15", "2025-12-15", "2026-01-15"], "13:00:00"),
    ),
    # 4. Cron 0 9 * * MON-FRI from Thursday the 20th (holidays not skipped here).
    "4-cron": (
        NOW,
        {"recurrence_type": "cron", "start_date": "2025-11-20", "recurrence_config": {"expression": "0 9 * * MON-FRI"}}
        | SP,
        at([f"2025-11-{day}" for day in (20, 21, 24, 25, 26, 27, 28)] + ["2025-12-01", "2025-12-02", "2025-12-03"]),
    ),
    # 5. Custom dates, instants as given.
    "5-custom": (
        NOW,
        {"recurrence_type": "custom", "start_date": "2025-11-25T09:00:00Z"}
        | {"recurrence_config": {"dates": ["2025-11-25T09:00:00Z", "2025-11-26T14:00:00Z", "2025-12-01T10:00:00Z"]}}
        | SP,
        ["2025-11-25T09:00:00Z", "2025-11-26T14:00:00Z", "2025-12-01T10:00:00Z"],
    ),
}
# 6. Daily at 08:00 (moved to the 09:00 opening of the window), blackout Christmas and New
# Year's Day, weekends and holidays skipped: asked before the 20th and before Christmas.
EXAMPLE_6 = {
    "recurrence_type": "daily",
    "start_date": "2025-11-20",
    "start_time": "08:00:00",
    "recurrence_config": {"interval": 1},
    "execution_window_start": "09:00:00",
    "execution_window_end": "18:00:00",
    "blackout_dates": ["2025-12-25", "2026-01-01"],
    "skip_weekends": True,
    "skip_holidays": True,
    **SP,
}
EXAMPLES["6-before-the-20th"] = (
    NOW,
    EXAMPLE_6,
    at(["2025-11-21", "2025-11-24", "2025-11-25", "2025-11-26", "2025-11-27", "2025-11-28"] + WEEKLY_DATES[4:5])
    + at(["2025-12-02", "2025-12-03", "2025-12-04"]),
)
EXAMPLES["6-before-christmas"] = (
    "2025-12-21T12:00:00Z",
    EXAMPLE_6,
    at(["2025-12-22", "2025-12-23", "2025-12-24", "2025-12-26", "2025-12-29", "2025-12-30", "2025-12-31"])
    + at(["2026-01-02", "2026-01-05", "2026-01-06"]),
)
SKIPPED_6 = {
    "6-before-the-20th": [
        ("2025-11-20T12:00:00Z", "holiday"),
        ("2025-11-22T12:00:00Z", "weekend"),
        ("2025-11-23T12:00:00Z", "weekend"),
        ("2025-11-29T12:00:00Z", "weekend"),
        ("2025-11-30T12:00:00Z", "weekend"),
    ],
    "6-before-christmas": [
        ("2025-12-25T12:00:00Z", "blackout"),
        ("2025-12-27T12:00:00Z", "weekend"),
        ("2025-12-28T12:00:00Z", "weekend"),
        ("2026-01-01T12:00:00Z", "blackout"),
        ("2026-01-03T12:00:00Z", "weekend"),
        ("2026-01-04T12:00:00Z", "weekend"),
    ],
}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_2_worked_examples_1_to_6_preview_the_real_calendar(name, alice_client, contract_rows, contract_ids, clock):
    moment, body, expected = EXAMPLES[name]
    clock.move_to(moment)
    create_automation(alice_client)

    created = post_schedule(alice_client, body)
    shown = preview(alice_client)

    assert scheduled(shown) == expected
    assert created["next_scheduled_at"] == expected[0]
    assert {e["timezone"] for e in shown["next_executions"]} == {"America/Sao_Paulo"}
    if name in SKIPPED_6:
        assert [(s["scheduled_at"], s["reason"]) for s in shown["skipped"]] == SKIPPED_6[name]
        assert shown["next_executions"][0]["execution_window"] == {"start": "09:00:00", "end": "18:00:00"}


def test_2_worked_example_7_a_skip_exception(alice_client, contract_rows, contract_ids, clock):
    clock.move_to("2025-11-22T13:00:00Z")  # Saturday 10:00 in São Paulo
    create_automation(alice_client)
    post_schedule(
        alice_client,
        {"recurrence_type": "daily", "start_date": "2025-11-01", "start_time": "09:00:00", **SP}
        | {"recurrence_config": {"interval": 1}},
    )

    post_exception(alice_client, SKIP_BODY)
    shown = preview(alice_client)

    days = ["2025-11-23", "2025-11-24"] + [f"2025-11-{d}" for d in range(27, 31)] + WEEKLY_DATES[4:5]
    assert scheduled(shown) == at(days + ["2025-12-02", "2025-12-03", "2025-12-04"])
    assert [(s["scheduled_at"], s["reason"], s["detail"]) for s in shown["skipped"]] == [
        ("2025-11-25T12:00:00Z", "exception", "Black Friday"),
        ("2025-11-26T12:00:00Z", "exception", "Black Friday"),
    ]


def test_2_worked_example_8_a_reschedule_moves_that_one_occurrence(alice_client, automation):
    post_schedule(alice_client, WEEKLY_BODY)

    post_exception(alice_client, RESCHEDULE_BODY)
    shown = preview(alice_client)

    # Monday the 24th's run (09:00 in São Paulo, the only one that day) runs on Tuesday at 14:00Z.
    expected = at(WEEKLY_DATES[:1]) + ["2025-11-25T14:00:00Z"] + at(WEEKLY_DATES[2:])
    assert scheduled(shown) == expected
    moved = shown["next_executions"][1]
    assert (moved["rescheduled"], moved["rescheduled_from"]) == (True, "2025-11-24T12:00:00Z")
    assert not any(e["rescheduled"] for i, e in enumerate(shown["next_executions"]) if i != 1)


def test_2_worked_example_9_a_modify_changes_the_executions_that_start_inside(alice_client, automation, clock):
    post_schedule(alice_client, WEEKLY_BODY)

    post_exception(alice_client, MODIFY_BODY)
    shown = preview(alice_client)

    assert scheduled(shown) == at(WEEKLY_DATES)
    changed = {e["scheduled_at"]: e["modified_config"] for e in shown["next_executions"] if e["modified"]}
    assert changed == {"2025-11-26T12:00:00Z": MODIFY_BODY["modified_config"]}

    # The ticker starts Wednesday the 26th's execution with those settings (the 21st and 24th,
    # past their catch-up window by then, are missed).
    clock.move_to("2025-11-26T12:00:30Z")
    counts = ticker.tick()
    assert counts["started"] == 1
    execution = Execution.objects.get(campaign_id=1)
    assert (execution.type, execution.trigger_event) == ("scheduled", "2025-11-26T12:00:00+00:00")
    assert execution.settings == MODIFY_BODY["modified_config"]
    effective = execution.campaign_with_settings()
    assert (effective.rate_limit_per_hour, effective.max_concurrent_executions) == (3000, 150)
    assert alice_client.get(SCHEDULE).json()["execution_count"] == 1
