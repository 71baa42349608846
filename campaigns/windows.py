"""Execution windows (business hours) in a campaign's time zone, and the clock.

A window is `execution_window_start`–`execution_window_end` every day, in
`campaign.time_zone`; an end before the start spans midnight (22:00–06:00). No window
means always open.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


def now() -> datetime:
    """The time the dispatcher lives by: `settings.CAMPAIGNS_CLOCK`, the system clock by default.

    Tests of real worker processes point it at a clock they move.
    """
    clock = getattr(settings, "CAMPAIGNS_CLOCK", "")
    return import_string(clock)() if clock else timezone.now()


def is_open(campaign, at: datetime) -> bool:
    start, end = campaign.execution_window_start, campaign.execution_window_end
    if start is None or end is None or start == end:
        return True
    local = at.astimezone(ZoneInfo(campaign.time_zone)).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_opening(campaign, at: datetime) -> datetime:
    """When the window next opens at or after `at` (`at` itself when it is open)."""
    if is_open(campaign, at):
        return at
    zone = ZoneInfo(campaign.time_zone)
    local = at.astimezone(zone)
    candidate = datetime.combine(local.date(), campaign.execution_window_start, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), campaign.execution_window_start, tzinfo=zone)
    return candidate.astimezone(UTC)


def next_local_midnight(time_zone: str, at: datetime) -> datetime:
    zone = ZoneInfo(time_zone)
    local = at.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time(0, 0), tzinfo=zone)


def local_day(time_zone: str, at: datetime) -> str:
    return at.astimezone(ZoneInfo(time_zone)).date().isoformat()
