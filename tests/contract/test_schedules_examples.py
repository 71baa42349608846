"""The old docs' worked examples 1–9 of §2 (schedules), from the real calendar (see test_schedules.py)."""

import pytest

from campaigns.models import Execution
from campaigns.schedules import ticker
from tests.support.contract import (
    MODIFY_BODY,
    NOW,
    RESCHEDULE_BODY,
    SCHEDULE,
    SKIP_BODY,
    SP,
    WEEKLY_BODY,
    WEEKLY_DATES,
    at,
    create_automation,
    post_exception,
    post_schedule,
    preview,
    scheduled,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


# --- the old docs' worked examples 1–9, from the real calendar ------------------------------

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
    # 5. Custom dates, instants as given; no start_date (the old example has none: the first date is it).
    "5-custom": (
        NOW,
        {"recurrence_type": "custom"}
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
