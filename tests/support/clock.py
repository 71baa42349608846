"""A clock the test moves, shared with real worker processes through Redis.

Workers started with `CAMPAIGNS_CLOCK=tests.support.clock.now` and the test's
`REDIS_KEY_PREFIX` live `offset` seconds ahead of the system clock.
"""

from datetime import timedelta

from django.utils import timezone

from core.redis import get_redis, key


def now():
    offset = get_redis().get(key("test-clock-offset"))
    return timezone.now() + timedelta(seconds=float(offset or 0))


def move(seconds: float) -> None:
    client = get_redis()
    current = float(client.get(key("test-clock-offset")) or 0)
    client.set(key("test-clock-offset"), current + seconds)


def set_local(campaign_tz: str, hour: int, minute: int = 0) -> None:
    """Move the clock forward to the next hh:mm in `campaign_tz` (time only ever moves on)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    real = timezone.now()
    local = now().astimezone(ZoneInfo(campaign_tz))
    target = datetime.combine(
        local.date(), datetime.min.time().replace(hour=hour, minute=minute), tzinfo=ZoneInfo(campaign_tz)
    )
    if target < local:
        target += timedelta(days=1)
    get_redis().set(key("test-clock-offset"), (target - real).total_seconds())
