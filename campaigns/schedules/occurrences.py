"""The one calculator: when a schedule runs. Pure functions of (schedule, exceptions, time).

The preview, the admin calendar and the ticker all ask these functions, so what the
operator sees is what runs. `schedule` is anything with a Schedule's attributes and
`exceptions` anything with a ScheduleException's (model rows, or plain objects in tests).

Rules, applied in this order:

1. Nominal occurrences are the local wall time `start_time` in `execution_timezone`, on
   the recurrence's local dates from `start_date` to `end_date` (inclusive):
   - once: `start_date`;
   - daily: every `interval`-th day counted from `start_date`;
   - weekly: the `days` of every `interval`-th week, weeks counted from the week
     (Monday) of `start_date`;
   - monthly: `day` of every `interval`-th month counted from `start_date`'s month; a
     month without that day (31 in April, 29 in a common February) uses its last day;
   - cron: the expression's local wall times (croniter on the local clock, so "0 9 * * *"
     stays 09:00 across DST changes); `start_time` is not used;
   - custom: the given dates as given: an instant when it has an offset ("Z", "-03:00"),
     a local wall time when it has none.
2. A local wall time becomes an instant with zoneinfo: one that does not exist (spring
   forward gap) runs at the first instant after the gap; an ambiguous one (fall back)
   runs once, at its first instance.
3. A `reschedule` exception takes the occurrence at its `start_date` (that instant, or
   failing it the first occurrence of that local day) and runs it at `rescheduled_to`,
   as given: an operator's explicit time is not moved by the window nor skipped by a
   blocked day.
4. Window: an occurrence outside `execution_window_start`–`execution_window_end` (an end
   before the start spans midnight; no window is always open) moves to the next opening
   of the window. Occurrences landing on one opening collapse into one: the later ones
   are reported skipped with reason "window".
5. Blocked days are local dates of the (moved) run: `blackout_dates`, Saturdays and
   Sundays when `skip_weekends`, holidays when `skip_holidays` (see `calendars`). An
   occurrence on one is skipped, not moved.
6. A `skip` exception skips the runs inside [start_date, end_date] (reason "exception").
7. A `modify` exception marks the runs inside [start_date, end_date] with its
   `modified_config`; several apply in their order, the later key winning.
8. `max_occurrences` counts runs (not skipped ones) from `start_date`; the calendar ends
   after that many.
"""

import heapq
import math
from calendar import monthrange
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from croniter import croniter

from campaigns.schedules.calendars import blocked_reason

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
# How far `next_occurrence` looks ahead before it says there is none.
HORIZON_DAYS = 5 * 366


@dataclass(frozen=True)
class Occurrence:
    at: datetime  # UTC, when it runs
    nominal: datetime  # UTC, before the window moved it or a reschedule replaced it
    rescheduled_from: datetime | None = None
    modified: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    at: datetime
    reason: str  # blackout, weekend, holiday, exception, window
    detail: str = ""


@dataclass
class Preview:
    occurrences: list[Occurrence]
    skipped: list[Skipped]


@lru_cache(maxsize=256)
def zone_of(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """Local wall time → UTC instant, with rule 2 for gaps and folds."""
    return resolve(datetime.combine(day, wall), zone)


def resolve(naive: datetime, zone: ZoneInfo) -> datetime:
    local = naive.replace(tzinfo=zone, fold=0)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant  # exists; fold=0 is the first instance of an ambiguous time
    # In a gap: fold=1 reads it with the offset after the transition (an instant before
    # the gap), fold=0 with the one before (an instant after it). Bisect for the transition.
    low = int(local.replace(fold=1).astimezone(UTC).timestamp())
    high = math.ceil(instant.timestamp())
    after = instant.astimezone(zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def parse_custom_date(value: str, zone: ZoneInfo) -> datetime:
    """A custom date as given: an instant with an offset, a local wall time without one."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if isinstance(value, str) else value)
    if parsed.tzinfo is None:
        return resolve(parsed, zone)
    return parsed.astimezone(UTC)


# --- rule 1: nominal occurrences -------------------------------------------------------


def nominal(schedule, first_day: date, last_day: date) -> Iterator[datetime]:
    """Nominal instants (rules 1–2) on local dates first_day..last_day, increasing."""
    zone = zone_of(schedule.execution_timezone)
    config = schedule.recurrence_config or {}
    kind = schedule.recurrence_type
    first_day = max(first_day, schedule.start_date)
    if schedule.end_date:
        last_day = min(last_day, schedule.end_date)
    if first_day > last_day:
        return
    wall = schedule.start_time
    interval = int(config.get("interval") or 1)
    if kind == "once":
        if first_day <= schedule.start_date <= last_day:
            yield to_instant(schedule.start_date, wall, zone)
    elif kind == "daily":
        offset = (first_day - schedule.start_date).days
        day = schedule.start_date + timedelta(days=math.ceil(offset / interval) * interval)
        while day <= last_day:
            yield to_instant(day, wall, zone)
            day += timedelta(days=interval)
    elif kind == "weekly":
        days = {WEEKDAYS.index(str(d).upper()) for d in config.get("days") or ()}
        week_zero = schedule.start_date - timedelta(days=schedule.start_date.weekday())
        day = first_day
        while day <= last_day:
            week = (day - week_zero).days // 7
            if week % interval:
                day = week_zero + timedelta(weeks=(week // interval + 1) * interval)
                continue
            if day.weekday() in days:
                yield to_instant(day, wall, zone)
            day += timedelta(days=1)
    elif kind == "monthly":
        wanted = int(config.get("day") or schedule.start_date.day)
        month_zero = schedule.start_date.year * 12 + schedule.start_date.month - 1
        month = max(month_zero, first_day.year * 12 + first_day.month - 1)
        month = month_zero + math.ceil((month - month_zero) / interval) * interval
        while True:
            year, index = divmod(month, 12)
            day = date(year, index + 1, min(wanted, monthrange(year, index + 1)[1]))
            if day > last_day:
                return
            if day >= first_day:
                yield to_instant(day, wall, zone)
            month += interval
    elif kind == "cron":
        previous = None
        for wall_time in cron_wall_times(config["expression"], first_day, last_day):
            instant = resolve(wall_time, zone)
            if instant != previous:  # two wall times in one gap land on one instant
                yield instant
                previous = instant
    elif kind == "custom":
        instants = sorted({parse_custom_date(value, zone) for value in config.get("dates") or ()})
        for instant in instants:
            if first_day <= local_date(instant, zone) <= last_day:
                yield instant


@lru_cache(maxsize=1024)
def _cron_fields(expression: str):
    """(minutes×hours as times, days of month, months, cron weekdays) or None when croniter must walk it."""
    (minutes, hours, days, months, weekdays), nth = croniter.expand(expression)
    if nth or "l" in days or "l" in weekdays:
        return None  # "L" and "#" are rare: croniter's own iteration handles them
    star = "*"
    # croniter leaves a whole field as "*" ("0 * * * *": every hour).
    hours = range(24) if hours == [star] else hours
    minutes = range(60) if minutes == [star] else minutes
    times = tuple(sorted(time(h, m) for h in hours for m in minutes))
    return (
        times,
        None if days == [star] else frozenset(days),
        None if months == [star] else frozenset(months),
        None if weekdays == [star] else frozenset(0 if d == 7 else d for d in weekdays),
    )


def cron_wall_times(expression: str, first_day: date, last_day: date) -> Iterator[datetime]:
    """The expression's local wall times on first_day..last_day, as croniter reads it
    (day of month and day of week both restricted: either matches)."""
    fields = _cron_fields(expression)
    if fields is None:
        iterator = croniter(expression, datetime.combine(first_day, time.min) - timedelta(seconds=1))
        while (wall_time := iterator.get_next(datetime)).date() <= last_day:
            yield wall_time
        return
    times, days, months, weekdays = fields
    day = first_day
    while day <= last_day:
        if months is None or day.month in months:
            on_day = days is None or day.day in days
            on_weekday = weekdays is None or (day.weekday() + 1) % 7 in weekdays
            if (on_day or on_weekday) if (days is not None and weekdays is not None) else (on_day and on_weekday):
                for wall in times:
                    yield datetime.combine(day, wall)
        day += timedelta(days=1)


# --- rules 3–8 -------------------------------------------------------------------------


def _window(schedule):
    start, end = schedule.execution_window_start, schedule.execution_window_end
    if start is None or end is None or start == end:
        return None
    return start, end


def move_into_window(instant: datetime, schedule, zone: ZoneInfo) -> datetime:
    """Rule 4: the instant itself when the window is open then, else its next opening."""
    window = _window(schedule)
    if window is None:
        return instant
    start, end = window
    local = instant.astimezone(zone)
    if _is_open(local.time(), start, end):
        return instant
    wall = local.time()
    day = local.date() if (wall < start or start > end) else local.date() + timedelta(days=1)
    for _ in range(4):
        opening = to_instant(day, start, zone)
        # A window that falls wholly in a DST gap does not open that day.
        if _is_open(opening.astimezone(zone).time(), start, end):
            return opening
        day += timedelta(days=1)
    return opening


def _is_open(wall: time, start: time, end: time) -> bool:
    wall = wall.replace(tzinfo=None)
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end


def window_end_after(instant: datetime, schedule) -> datetime | None:
    """When the window that is open at `instant` closes (None without a window)."""
    window = _window(schedule)
    if window is None:
        return None
    start, end = window
    zone = zone_of(schedule.execution_timezone)
    local = instant.astimezone(zone)
    day = local.date()
    if start > end and local.time() >= start:
        day += timedelta(days=1)
    return to_instant(day, end, zone)


def _origins(schedule, exceptions: list) -> dict[datetime, object]:
    """Rule 3: the nominal instant each reschedule exception takes away, mapped to it."""
    zone = zone_of(schedule.execution_timezone)
    taken = {}
    for exception in exceptions:
        if exception.exception_type != "reschedule" or exception.rescheduled_to is None:
            continue
        day = local_date(exception.start_date, zone)
        candidates = list(nominal(schedule, day, day))
        exact = [c for c in candidates if c == exception.start_date]
        origin = (exact or candidates or [None])[0]
        if origin is not None and origin not in taken:
            taken[origin] = exception
    return taken


def _base(schedule, exceptions: list, first_day: date, last_day: date, taken: dict) -> Iterator:
    zone = zone_of(schedule.execution_timezone)
    blackout = frozenset(date.fromisoformat(str(d)[:10]) for d in schedule.blackout_dates or ())
    skips = [e for e in exceptions if e.exception_type == "skip"]
    previous = None
    for instant in nominal(schedule, first_day, last_day):
        if instant in taken:
            continue
        at = move_into_window(instant, schedule, zone)
        if at == previous:
            nominal_local = instant.astimezone(zone).isoformat()
            yield Skipped(at=at, reason="window", detail=f"{nominal_local} collapsed into the window's opening")
            continue
        previous = at
        blocked = blocked_reason(schedule, local_date(at, zone), blackout)
        if blocked:
            yield Skipped(at=at, reason=blocked[0], detail=blocked[1])
            continue
        skip = next((e for e in skips if _inside(at, e)), None)
        if skip is not None:
            yield Skipped(at=at, reason="exception", detail=skip.reason or "skip")
            continue
        yield Occurrence(at=at, nominal=instant)


def _inside(at: datetime, exception) -> bool:
    end = exception.end_date or exception.start_date
    return exception.start_date <= at <= end


def events(schedule, exceptions: Iterable, *, after: datetime, until: datetime) -> Iterator:
    """Occurrences and skipped occurrences in (after, until], in time order (rules 1–8)."""
    exceptions = list(exceptions)
    zone = zone_of(schedule.execution_timezone)
    last_day = local_date(until, zone)
    if schedule.max_occurrences:
        first_day = schedule.start_date  # runs are counted from the first one
    else:
        # A window moves an occurrence by a day at most, so two days back cover it.
        first_day = local_date(after, zone) - timedelta(days=2)
    taken = _origins(schedule, exceptions)
    moved = sorted(
        (
            Occurrence(at=e.rescheduled_to.astimezone(UTC), nominal=origin, rescheduled_from=origin)
            for origin, e in taken.items()
        ),
        key=lambda o: o.at,
    )
    modifies = [e for e in exceptions if e.exception_type == "modify"]
    stream = heapq.merge(_base(schedule, exceptions, first_day, last_day, taken), moved, key=lambda e: e.at)
    count, previous = 0, None
    for item in stream:
        if isinstance(item, Occurrence):
            if item.at == previous:
                item = Skipped(at=item.at, reason="window", detail="collapsed into another occurrence at this time")
            else:
                previous = item.at
                count += 1
                changes = {}
                for exception in modifies:
                    if _inside(item.at, exception):
                        changes.update(exception.modified_config or {})
                if changes:
                    item = Occurrence(item.at, item.nominal, item.rescheduled_from, changes)
        if item.at > until:
            return
        if item.at > after:
            yield item
        if schedule.max_occurrences and count >= schedule.max_occurrences and isinstance(item, Occurrence):
            return


def preview(schedule, exceptions: Iterable, *, after: datetime, count: int, days_ahead: int) -> Preview:
    """The next `count` runs within `days_ahead` days, and what was skipped on the way."""
    runs, skipped = [], []
    for item in events(schedule, exceptions, after=after, until=after + timedelta(days=days_ahead)):
        if isinstance(item, Occurrence):
            runs.append(item)
            if len(runs) >= count:
                break
        else:
            skipped.append(item)
    return Preview(runs, skipped)


def next_occurrence(schedule, exceptions: Iterable, *, after: datetime) -> Occurrence | None:
    """The first run strictly after `after` (None when there is none within the horizon).

    Once and custom schedules list their dates: they are read whatever how far ahead.
    """
    finite = schedule.recurrence_type in ("once", "custom")
    until = datetime(9000, 1, 1, tzinfo=UTC) if finite else after + timedelta(days=HORIZON_DAYS)
    return next((i for i in events(schedule, exceptions, after=after, until=until) if isinstance(i, Occurrence)), None)


def occurrences_between(schedule, exceptions: Iterable, *, start: datetime, end: datetime) -> list[Occurrence]:
    """Runs in [start, end]."""
    items = events(schedule, exceptions, after=start - timedelta(microseconds=1), until=end)
    return [i for i in items if isinstance(i, Occurrence)]


def finite_dates_blocked(schedule, exceptions: Iterable) -> list[Skipped] | None:
    """For once/custom: the skipped dates when every date is blocked, else None."""
    if schedule.recurrence_type not in ("once", "custom"):
        return None
    start = datetime(1970, 1, 1, tzinfo=UTC)
    items = list(events(schedule, exceptions, after=start, until=datetime(9000, 1, 1, tzinfo=UTC)))
    return items if items and not any(isinstance(i, Occurrence) for i in items) else None
