"""The calculator, on the real calendar: each recurrence, DST, month ends, holidays, windows, exceptions.

Every expected instant was worked out by hand from the calendar (2025-11-20 is a
Thursday and, since 2024, a national holiday in Brazil; São Paulo has no DST since 2019).
"""

from datetime import date, time

import pytest

from campaigns.schedules import occurrences
from tests.support.schedules import NY, SP, local, runs, schedule, skipped, utc, z

# --- each recurrence type ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "after", "expected"),
    [
        ({"recurrence_type": "once", "start_date": date(2026, 5, 4)}, "2026-01-01T00:00:00Z", ["2026-05-04T12:00:00Z"]),
        ({"recurrence_type": "once", "start_date": date(2026, 5, 4)}, "2026-05-04T12:00:00Z", []),
        (
            {"recurrence_type": "daily", "start_date": date(2026, 5, 1), "recurrence_config": {"interval": 3}},
            "2026-05-02T00:00:00Z",
            ["2026-05-04T12:00:00Z", "2026-05-07T12:00:00Z", "2026-05-10T12:00:00Z"],
        ),
        (
            {"recurrence_type": "daily", "start_date": date(2026, 5, 1), "end_date": date(2026, 5, 2)},
            "2026-04-01T00:00:00Z",
            ["2026-05-01T12:00:00Z", "2026-05-02T12:00:00Z"],
        ),
        (
            {"recurrence_type": "daily", "start_date": date(2026, 5, 1), "max_occurrences": 2},
            "2026-05-01T13:00:00Z",
            ["2026-05-02T12:00:00Z"],
        ),
        (
            {"recurrence_type": "weekly", "start_date": date(2026, 5, 1), "recurrence_config": {"days": ["SUN"]}},
            "2026-05-01T00:00:00Z",
            ["2026-05-03T12:00:00Z", "2026-05-10T12:00:00Z", "2026-05-17T12:00:00Z"],
        ),
        (
            {
                "recurrence_type": "monthly",
                "start_date": date(2026, 1, 10),
                "recurrence_config": {"day": 5, "interval": 2},
            },
            "2026-01-01T00:00:00Z",
            ["2026-03-05T12:00:00Z", "2026-05-05T12:00:00Z", "2026-07-05T12:00:00Z"],
        ),
        (
            {
                "recurrence_type": "cron",
                "start_date": date(2026, 5, 1),
                "recurrence_config": {"expression": "15 8 1 * *"},
            },
            "2026-04-01T00:00:00Z",
            ["2026-05-01T11:15:00Z", "2026-06-01T11:15:00Z", "2026-07-01T11:15:00Z"],
        ),
        (
            {
                "recurrence_type": "custom",
                "start_date": date(2026, 5, 1),
                "recurrence_config": {"dates": ["2026-05-03T10:00:00", "2026-05-02T10:00:00-03:00"]},
            },
            "2026-04-01T00:00:00Z",
            ["2026-05-02T13:00:00Z", "2026-05-03T13:00:00Z"],
        ),
    ],
)
def test_each_recurrence_type(fields, after, expected):
    assert runs(schedule(**fields), after=after, count=3, days=400) == expected


def test_every_second_week_counts_weeks_from_the_start_dates_week():
    s = schedule(
        recurrence_type="weekly",
        start_date=date(2025, 11, 20),
        recurrence_config={"days": ["MON", "THU"], "interval": 2},
    )
    assert [r[:10] for r in runs(s, count=5)] == ["2025-11-20", "2025-12-01", "2025-12-04", "2025-12-15", "2025-12-18"]


# --- DST (America/New_York: 2026-03-08 02:00 → 03:00, 2026-11-01 02:00 → 01:00) ---------


def test_a_time_in_the_spring_forward_gap_runs_at_the_first_instant_after_it():
    s = schedule(start_date=date(2026, 3, 6), start_time=time(2, 30), execution_timezone=NY)
    got = occurrences.preview(s, [], after=utc("2026-03-06T00:00:00Z"), count=4, days_ahead=10).occurrences
    assert [local(o.at, NY) for o in got] == [
        "2026-03-06T02:30:00-05:00",
        "2026-03-07T02:30:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]


def test_an_ambiguous_time_in_the_fall_back_fold_runs_once_at_its_first_instance():
    s = schedule(start_date=date(2026, 10, 31), start_time=time(1, 30), execution_timezone=NY)
    assert runs(s, after="2026-10-31T00:00:00Z", count=3) == [
        "2026-10-31T05:30:00Z",
        "2026-11-01T05:30:00Z",  # 01:30 EDT; the second 01:30 (EST, 06:30Z) does not run
        "2026-11-02T06:30:00Z",
    ]


def test_cron_keeps_the_local_clock_across_both_changes_and_runs_the_repeated_hour_once():
    s = schedule(
        recurrence_type="cron",
        start_date=date(2026, 3, 7),
        execution_timezone=NY,
        recurrence_config={"expression": "0 9 * * *"},
    )
    assert runs(s, after="2026-03-07T00:00:00Z", count=2) == ["2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z"]
    s.recurrence_config = {"expression": "*/30 1 * * *"}
    s.start_date = date(2026, 11, 1)
    assert runs(s, after="2026-11-01T00:00:00Z", count=3) == [
        "2026-11-01T05:00:00Z",
        "2026-11-01T05:30:00Z",
        "2026-11-02T06:00:00Z",
    ]
    s.recurrence_config = {"expression": "0,30 2 * * *"}  # both fall in the gap: one run
    s.start_date = date(2026, 3, 8)
    assert runs(s, after="2026-03-08T00:00:00Z", count=2) == ["2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z"]


# --- month ends and the leap day ---------------------------------------------------------


def test_a_monthly_day_the_month_lacks_falls_on_its_last_day():
    s = schedule(recurrence_type="monthly", start_date=date(2026, 1, 31), recurrence_config={"day": 31})
    assert [r[:10] for r in runs(s, after="2026-01-01T00:00:00Z", days=400)] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
        "2026-05-31",
    ]


def test_the_leap_day_2028_02_29():
    s = schedule(recurrence_type="monthly", start_date=date(2027, 12, 31), recurrence_config={"day": 31})
    assert [r[:10] for r in runs(s, after="2027-12-01T00:00:00Z", count=3, days=400)] == [
        "2027-12-31",
        "2028-01-31",
        "2028-02-29",
    ]
    s = schedule(recurrence_type="monthly", start_date=date(2028, 1, 29), recurrence_config={"day": 29})
    assert [r[:10] for r in runs(s, after="2028-01-01T00:00:00Z", count=3, days=400)] == [
        "2028-01-29",
        "2028-02-29",
        "2028-03-29",
    ]
    s = schedule(start_date=date(2028, 2, 28))
    assert [r[:10] for r in runs(s, after="2028-02-01T00:00:00Z", count=3)] == [
        "2028-02-28",
        "2028-02-29",
        "2028-03-01",
    ]


# --- cron day-of-week ranges -------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "weekdays"),
    [
        ("0 9 * * MON-FRI", {0, 1, 2, 3, 4}),
        ("0 9 * * 1-5", {0, 1, 2, 3, 4}),
        ("0 9 * * TUE-THU", {1, 2, 3}),
        ("0 9 * * SAT,SUN", {5, 6}),
        ("0 9 * * 0", {6}),
    ],
)
def test_cron_day_of_week_ranges(expression, weekdays):
    s = schedule(recurrence_type="cron", start_date=date(2026, 6, 1), recurrence_config={"expression": expression})
    got = occurrences.preview(s, [], after=utc("2026-06-01T00:00:00Z"), count=14, days_ahead=60).occurrences
    assert {o.at.astimezone(occurrences.zone_of(SP)).weekday() for o in got} == weekdays
    assert all(local(o.at, SP)[11:16] == "09:00" for o in got)


@pytest.mark.parametrize(
    ("expression", "first_three"),
    [
        ("0 * * * *", ["10:00", "11:00", "12:00"]),
        ("* * * * *", ["09:31", "09:32", "09:33"]),
        ("*/20 * * * *", ["09:40", "10:00", "10:20"]),
        ("30 * * * MON", ["10:30", "11:30", "12:30"]),
    ],
)
def test_cron_with_every_hour_or_every_minute(expression, first_three):
    """croniter leaves a whole minute or hour field as "*"; the calculator reads it as every one."""
    s = schedule(recurrence_type="cron", start_date=date(2026, 6, 1), recurrence_config={"expression": expression})
    got = occurrences.preview(s, [], after=utc("2026-06-01T12:30:00Z"), count=3, days_ahead=10).occurrences
    assert [local(o.at, SP)[11:16] for o in got] == first_three


# --- holidays: BR and BR-SP by name ------------------------------------------------------


def test_national_state_and_optional_holidays_by_name():
    s = schedule(start_date=date(2026, 1, 1), skip_holidays=True)
    reasons = {at[:10]: detail for at, _reason, detail in skipped(s, after="2026-01-01T00:00:00Z", count=400, days=365)}
    assert reasons["2026-04-21"] == "Tiradentes' Day"
    assert reasons["2026-11-20"] == "National Day of Zumbi and Black Awareness"
    assert "2026-07-09" not in reasons and "2026-02-16" not in reasons
    s.holiday_subdivision = "SP"
    reasons = {at[:10]: detail for at, _reason, detail in skipped(s, after="2026-01-01T00:00:00Z", count=400, days=365)}
    assert reasons["2026-07-09"] == "Constitutionalist Revolution"
    s.include_optional_holidays = True
    reasons = {at[:10]: detail for at, _reason, detail in skipped(s, after="2026-01-01T00:00:00Z", count=400, days=365)}
    assert reasons["2026-02-16"] == "Carnival" and reasons["2026-02-18"] == "Ash Wednesday"


# --- windows -----------------------------------------------------------------------------


def test_occurrences_outside_the_window_move_to_its_opening_and_collapse_into_one():
    s = schedule(
        recurrence_type="cron",
        start_date=date(2026, 6, 1),
        recurrence_config={"expression": "0 6,7,8,10,19 * * *"},
        execution_window_start=time(9),
        execution_window_end=time(18),
    )
    assert runs(s, after="2026-06-01T00:00:00Z", count=3) == [
        "2026-06-01T12:00:00Z",  # 06:00, 07:00 and 08:00 → one run at 09:00
        "2026-06-01T13:00:00Z",  # 10:00
        "2026-06-02T12:00:00Z",  # yesterday's 19:00 and today's 06:00–08:00 → 09:00
    ]
    assert skipped(s, after="2026-06-01T00:00:00Z", count=2) == [
        ("2026-06-01T12:00:00Z", "window", "2026-06-01T07:00:00-03:00 collapsed into the window's opening"),
        ("2026-06-01T12:00:00Z", "window", "2026-06-01T08:00:00-03:00 collapsed into the window's opening"),
    ]


def test_a_window_spanning_midnight():
    s = schedule(start_time=time(12), execution_window_start=time(22), execution_window_end=time(6))
    assert [local(utc(r), SP) for r in runs(s, after="2026-06-01T00:00:00Z", count=2)] == [
        "2026-05-31T22:00:00-03:00",
        "2026-06-01T22:00:00-03:00",
    ]


def test_a_blocked_day_is_checked_on_the_day_the_window_moves_the_run_to():
    s = schedule(
        start_date=date(2026, 6, 1),
        start_time=time(20),
        execution_window_start=time(9),
        execution_window_end=time(18),
        skip_weekends=True,
    )  # each 20:00 moves to the next 09:00: Friday's and Saturday's land on the weekend and are skipped
    assert runs(s, after="2026-06-05T00:00:00Z", count=2) == ["2026-06-05T12:00:00Z", "2026-06-08T12:00:00Z"]
    assert [x[:2] for x in skipped(s, after="2026-06-05T00:00:00Z", count=2)] == [
        ("2026-06-06T12:00:00Z", "weekend"),
        ("2026-06-07T12:00:00Z", "weekend"),
    ]


def test_once_or_custom_with_every_date_blocked_is_reported():
    s = schedule(recurrence_type="once", start_date=date(2025, 11, 20), skip_holidays=True)
    blocked = occurrences.finite_dates_blocked(s, [])
    assert [(z(b.at), b.reason, b.detail) for b in blocked] == [
        ("2025-11-20T12:00:00Z", "holiday", "National Day of Zumbi and Black Awareness")
    ]
    s.start_date = date(2025, 11, 21)
    assert occurrences.finite_dates_blocked(s, []) is None


def test_next_occurrence_is_strictly_after_the_reference():
    s = schedule(start_date=date(2026, 6, 1))
    assert z(occurrences.next_occurrence(s, [], after=utc("2026-06-01T12:00:00Z")).at) == "2026-06-02T12:00:00Z"
    s.end_date = date(2026, 6, 1)
    assert occurrences.next_occurrence(s, [], after=utc("2026-06-01T12:00:00Z")) is None


def test_a_once_or_custom_date_years_ahead_still_has_its_run():
    """Recurring schedules look 5 years ahead; a listed date is found however far it is."""
    s = schedule(recurrence_type="once", start_date=date(2033, 3, 15))
    assert z(occurrences.next_occurrence(s, [], after=utc("2026-06-01T00:00:00Z")).at) == "2033-03-15T12:00:00Z"
    s = schedule(recurrence_type="custom", recurrence_config={"dates": ["2034-01-10T09:00:00"]})
    assert z(occurrences.next_occurrence(s, [], after=utc("2026-06-01T00:00:00Z")).at) == "2034-01-10T12:00:00Z"
