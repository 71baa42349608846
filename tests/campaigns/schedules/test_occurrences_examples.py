"""The calculator on the contract's nine worked examples (docs/schedules.md), on the real calendar.

Every expected instant was worked out by hand from the calendar (2025-11-20 is a
Thursday and, since 2024, a national holiday in Brazil; São Paulo has no DST since 2019).
"""

from datetime import date, time

from campaigns.schedules import occurrences
from tests.support.schedules import exception, runs, schedule, skipped, utc, z

# --- the contract's nine worked examples -------------------------------------------------


def test_example_1_daily_at_nine_in_sao_paulo():
    s = schedule(start_date=date(2025, 11, 20))
    assert runs(s) == [
        "2025-11-20T12:00:00Z",
        "2025-11-21T12:00:00Z",
        "2025-11-22T12:00:00Z",
        "2025-11-23T12:00:00Z",
        "2025-11-24T12:00:00Z",
    ]


def test_example_2_weekly_mon_wed_fri_from_a_thursday_starts_on_friday():
    s = schedule(
        recurrence_type="weekly",
        start_date=date(2025, 11, 20),
        start_time=time(14),
        recurrence_config={"days": ["MON", "WED", "FRI"], "interval": 1},
    )
    assert runs(s) == [
        "2025-11-21T17:00:00Z",
        "2025-11-24T17:00:00Z",
        "2025-11-26T17:00:00Z",
        "2025-11-28T17:00:00Z",
        "2025-12-01T17:00:00Z",
    ]


def test_example_3_monthly_on_the_15th_and_the_republic_holiday():
    s = schedule(
        recurrence_type="monthly", start_date=date(2025, 11, 15), start_time=time(10), recurrence_config={"day": 15}
    )
    assert runs(s, after="2025-11-01T00:00:00Z", days=200) == [
        "2025-11-15T13:00:00Z",
        "2025-12-15T13:00:00Z",
        "2026-01-15T13:00:00Z",
        "2026-02-15T13:00:00Z",
        "2026-03-15T13:00:00Z",
    ]
    s.skip_holidays = True
    assert runs(s, after="2025-11-01T00:00:00Z", count=1) == ["2025-12-15T13:00:00Z"]
    assert skipped(s, after="2025-11-01T00:00:00Z", count=1) == [
        ("2025-11-15T13:00:00Z", "holiday", "Republic Proclamation Day")
    ]


def test_example_4_cron_weekdays_at_nine_from_the_black_awareness_holiday():
    s = schedule(
        recurrence_type="cron", start_date=date(2025, 11, 20), recurrence_config={"expression": "0 9 * * MON-FRI"}
    )
    assert runs(s) == [
        "2025-11-20T12:00:00Z",
        "2025-11-21T12:00:00Z",
        "2025-11-24T12:00:00Z",
        "2025-11-25T12:00:00Z",
        "2025-11-26T12:00:00Z",
    ]
    s.skip_holidays = True
    assert runs(s, count=2) == ["2025-11-21T12:00:00Z", "2025-11-24T12:00:00Z"]
    assert skipped(s, count=2) == [("2025-11-20T12:00:00Z", "holiday", "National Day of Zumbi and Black Awareness")]


def test_example_5_custom_dates_are_taken_as_given():
    dates = ["2025-11-25T09:00:00Z", "2025-11-26T14:00:00Z", "2025-12-01T10:00:00Z"]
    s = schedule(recurrence_type="custom", start_date=date(2025, 11, 25), recurrence_config={"dates": dates})
    assert runs(s, count=10) == dates


def test_example_6_window_blackouts_weekends_and_holidays_around_new_year():
    s = schedule(
        start_date=date(2025, 12, 20),
        execution_window_start=time(9),
        execution_window_end=time(18),
        blackout_dates=["2025-12-25", "2026-01-01"],
        skip_weekends=True,
        skip_holidays=True,
    )
    assert runs(s, after="2025-12-21T00:00:00Z", count=7) == [
        "2025-12-22T12:00:00Z",
        "2025-12-23T12:00:00Z",
        "2025-12-24T12:00:00Z",
        "2025-12-26T12:00:00Z",
        "2025-12-29T12:00:00Z",
        "2025-12-30T12:00:00Z",
        "2025-12-31T12:00:00Z",
    ]
    assert [(at[:10], reason) for at, reason, _ in skipped(s, after="2025-12-21T00:00:00Z", count=8)] == [
        ("2025-12-21", "weekend"),
        ("2025-12-25", "blackout"),
        ("2025-12-27", "weekend"),
        ("2025-12-28", "weekend"),
        ("2026-01-01", "blackout"),
    ]


def test_example_7_a_skip_exception_drops_the_two_black_friday_days():
    s = schedule(start_date=date(2025, 11, 1))
    black_friday = exception("skip", "2025-11-25T00:00:00Z", "2025-11-26T23:59:59Z", reason="Black Friday")
    assert runs(s, [black_friday], after="2025-11-23T00:00:00Z", count=4) == [
        "2025-11-23T12:00:00Z",
        "2025-11-24T12:00:00Z",
        "2025-11-27T12:00:00Z",
        "2025-11-28T12:00:00Z",
    ]
    assert skipped(s, [black_friday], after="2025-11-23T00:00:00Z", count=4) == [
        ("2025-11-25T12:00:00Z", "exception", "Black Friday"),
        ("2025-11-26T12:00:00Z", "exception", "Black Friday"),
    ]


def test_example_8_a_reschedule_moves_the_24th_to_the_25th_at_14z():
    s = schedule(start_date=date(2025, 11, 1))
    move = exception("reschedule", "2025-11-24T09:00:00Z", to="2025-11-25T14:00:00Z", reason="Sistema")
    result = occurrences.preview(s, [move], after=utc("2025-11-23T00:00:00Z"), count=4, days_ahead=10)
    assert [z(o.at) for o in result.occurrences] == [
        "2025-11-23T12:00:00Z",
        "2025-11-25T12:00:00Z",
        "2025-11-25T14:00:00Z",
        "2025-11-26T12:00:00Z",
    ]
    assert z(result.occurrences[2].rescheduled_from) == "2025-11-24T12:00:00Z"


def test_example_9_a_modify_raises_the_limits_of_the_executions_in_its_period():
    s = schedule(start_date=date(2025, 11, 1))
    config = {"rate_limit_per_hour": 3000, "max_concurrent_executions": 150}
    modify = exception("modify", "2025-11-25T00:00:00Z", "2025-11-26T23:59:59Z", config=config)
    result = occurrences.preview(s, [modify], after=utc("2025-11-24T00:00:00Z"), count=4, days_ahead=10)
    assert [(z(o.at)[:10], o.modified) for o in result.occurrences] == [
        ("2025-11-24", {}),
        ("2025-11-25", config),
        ("2025-11-26", config),
        ("2025-11-27", {}),
    ]
