"""Properties of every preview: in the window, on no blocked day, strictly increasing, after the reference."""

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.schedules import calendars, occurrences
from tests.support.schedules import schedule

ZONES = ["America/Sao_Paulo", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
CRONS = ["0 9 * * MON-FRI", "*/20 1-3 * * *", "30 2 * * *", "0 0,12 1,15 * *", "45 23 * * SUN", "0 8-20/4 * * *"]


@st.composite
def schedules(draw):
    kind = draw(st.sampled_from(["once", "daily", "weekly", "monthly", "cron", "custom"]))
    zone = draw(st.sampled_from(ZONES))
    start = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)))
    config = {}
    if kind in ("daily", "weekly", "monthly"):
        config["interval"] = draw(st.integers(1, 4))
    if kind == "weekly":
        config["days"] = draw(st.lists(st.sampled_from(occurrences.WEEKDAYS), min_size=1, max_size=7, unique=True))
    if kind == "monthly":
        config["day"] = draw(st.integers(1, 31))
    if kind == "cron":
        config["expression"] = draw(st.sampled_from(CRONS))
    if kind == "custom":
        instants = draw(
            st.lists(
                st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2029, 1, 1), timezones=st.just(UTC)),
                min_size=1,
                max_size=20,
            )
        )
        config["dates"] = [i.isoformat() for i in instants]
    window = None
    if draw(st.booleans()):
        opens = draw(st.times())
        closes = draw(st.times())
        if opens.replace(microsecond=0) != closes.replace(microsecond=0):
            window = (opens.replace(microsecond=0), closes.replace(microsecond=0))
    blackout = draw(st.lists(st.dates(min_value=start, max_value=start + timedelta(days=400)), max_size=10))
    return schedule(
        recurrence_type=kind,
        start_date=start,
        start_time=draw(st.times()).replace(microsecond=0),
        recurrence_config=config,
        execution_timezone=zone,
        execution_window_start=window[0] if window else None,
        execution_window_end=window[1] if window else None,
        blackout_dates=[d.isoformat() for d in blackout],
        skip_weekends=draw(st.booleans()),
        skip_holidays=draw(st.booleans()),
        holiday_subdivision=draw(st.sampled_from(["", "SP", "RJ"])),
        include_optional_holidays=draw(st.booleans()),
    )


def in_window(s, instant) -> bool:
    if s.execution_window_start is None:
        return True
    wall = instant.astimezone(occurrences.zone_of(s.execution_timezone)).time()
    start, end = s.execution_window_start, s.execution_window_end
    return start <= wall < end if start < end else (wall >= start or wall < end)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    s=schedules(),
    after=st.datetimes(min_value=datetime(2024, 12, 1), max_value=datetime(2029, 1, 1), timezones=st.just(UTC)),
)
def test_every_previewed_occurrence_keeps_the_rules(s, after):
    result = occurrences.preview(s, [], after=after, count=10, days_ahead=120)
    zone = occurrences.zone_of(s.execution_timezone)
    blackout = frozenset(date.fromisoformat(d) for d in s.blackout_dates)
    previous = after
    for occurrence in result.occurrences:
        assert occurrence.at > previous
        previous = occurrence.at
        assert occurrence.at <= after + timedelta(days=120)
        assert in_window(s, occurrence.at)
        assert calendars.blocked_reason(s, occurrence.at.astimezone(zone).date(), blackout) is None
    for skipped in result.skipped:
        assert skipped.at > after
        assert skipped.reason in {"blackout", "weekend", "holiday", "window"}


@settings(max_examples=100, deadline=None)
@given(s=schedules(), start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 6, 1)))
def test_stepping_with_next_occurrence_walks_the_same_calendar_as_the_preview(s, start):
    """What the ticker does (one next_occurrence after another) is the preview's list."""
    after = start.replace(tzinfo=UTC)
    expected = [o.at for o in occurrences.preview(s, [], after=after, count=6, days_ahead=3000).occurrences]
    walked, cursor = [], after
    for _ in range(6):
        upcoming = occurrences.next_occurrence(s, [], after=cursor)
        if upcoming is None or upcoming.at > after + timedelta(days=3000):
            break
        walked.append(upcoming.at)
        cursor = upcoming.at
    assert walked == expected


def test_a_window_wholly_inside_a_dst_gap_opens_the_next_day():
    s = schedule(
        start_date=date(2026, 3, 7),
        start_time=time(1),
        execution_timezone="America/New_York",
        execution_window_start=time(2, 10),
        execution_window_end=time(2, 50),
    )
    got = occurrences.preview(s, [], after=datetime(2026, 3, 7, tzinfo=UTC), count=3, days_ahead=10).occurrences
    assert [o.at.isoformat() for o in got] == [
        "2026-03-07T07:10:00+00:00",
        "2026-03-09T06:10:00+00:00",  # 8 March has no 02:10–02:50; that day's occurrence collapses into the 9th's
        "2026-03-10T06:10:00+00:00",
    ]


CRON_FIELDS = st.tuples(
    st.sampled_from(["0", "*", "*/15", "5,35", "59", "0-10/5"]),
    st.sampled_from(["9", "*", "*/6", "0,12", "1-3", "23"]),
    st.sampled_from(["*", "1", "15,31", "29", "1-7", "*/10"]),
    st.sampled_from(["*", "2", "1,7", "JAN-MAR", "*/4"]),
    st.sampled_from(["*", "MON-FRI", "SUN", "1-5", "0,6", "7", "TUE-THU"]),
)


@settings(max_examples=200, deadline=None)
@given(fields=CRON_FIELDS, start=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 1)))
def test_the_cron_fast_path_agrees_with_croniter(fields, start):
    from croniter import croniter

    expression = " ".join(fields)
    last = start + timedelta(days=70)
    ours = list(occurrences.cron_wall_times(expression, start, last))[:50]
    iterator = croniter(expression, datetime.combine(start, time.min) - timedelta(seconds=1))
    theirs = []
    while len(theirs) < len(ours) + 1 and (wall := iterator.get_next(datetime)).date() <= last:
        theirs.append(wall)
    assert ours == theirs[: len(ours)] and (len(ours) == 50 or len(theirs) == len(ours))
