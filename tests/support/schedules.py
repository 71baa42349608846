"""Plain stand-ins for Schedule and ScheduleException: the calculator only reads attributes."""

from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from campaigns.schedules import occurrences

SP = "America/Sao_Paulo"
NY = "America/New_York"


def schedule(**fields) -> SimpleNamespace:
    base = {
        "recurrence_type": "daily",
        "start_date": date(2025, 11, 1),
        "start_time": time(9, 0),
        "end_date": None,
        "max_occurrences": None,
        "recurrence_config": {},
        "execution_window_start": None,
        "execution_window_end": None,
        "execution_timezone": SP,
        "blackout_dates": [],
        "skip_weekends": False,
        "skip_holidays": False,
        "holiday_country": "BR",
        "holiday_subdivision": "",
        "include_optional_holidays": False,
    }
    unknown = set(fields) - set(base)
    assert not unknown, unknown
    return SimpleNamespace(**(base | fields))


def exception(kind: str, start: str, end: str | None = None, *, to: str | None = None, reason: str = "", config=None):
    return SimpleNamespace(
        exception_type=kind,
        start_date=utc(start),
        end_date=utc(end) if end else None,
        rescheduled_to=utc(to) if to else None,
        reason=reason,
        modified_config=config or {},
    )


def utc(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def z(instant: datetime) -> str:
    """An instant as the API writes it."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).isoformat()


def runs(s, exceptions=(), *, after="2025-11-19T00:00:00Z", count=5, days=120):
    """The preview's instants, as the API writes them."""
    result = occurrences.preview(s, list(exceptions), after=utc(after), count=count, days_ahead=days)
    return [z(o.at) for o in result.occurrences]


def skipped(s, exceptions=(), *, after="2025-11-19T00:00:00Z", count=5, days=120):
    """The preview's skipped occurrences: (instant, reason, detail)."""
    result = occurrences.preview(s, list(exceptions), after=utc(after), count=count, days_ahead=days)
    return [(z(x.at), x.reason, x.detail) for x in result.skipped]
