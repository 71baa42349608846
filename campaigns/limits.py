"""Send limits shared by every worker process: a slot is reserved before each send.

One reservation picks the campaign's instance that can send soonest and books the slot:
- spacing: `max(min_interval_seconds, 3600 / rate_limit_per_hour)` + random jitter, kept
  on the campaign's clock and on the instance's (other campaigns on that number queue
  behind it), plus an optional longer pause after every N sends of the campaign;
- a daily cap per instance, following the warm-up ladder for young numbers
  (`CAMPAIGNS_WARMUP_LADDER`), counted per local day of the organization.

With Redis the reservation is one Lua script (atomic across processes and machines, on
Redis's clock); without it the same algorithm runs on `SendSlot` rows locked in the
database. Celery's `rate_limit` is per worker process, so it is not used.

Redis may lose its keys (a restart without persistence, a flush). A number's count of the
day is then missing, and the script asks for it rather than count from zero: `seed()`
rebuilds the counts and the next slots from the recipients' `attempted_at` in the database
(`SET NX`: a key another worker seeded first wins) and the reservation is tried again.
"""

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from campaigns.models import Recipient, SendSlot
from campaigns.windows import local_day
from core.redis import get_redis, key

RESERVE_SCRIPT = """
for i = 2, (#KEYS - 2) / 2 + 1 do
  if redis.call('EXISTS', KEYS[2 * i]) == 0 then return {0, -1} end
end
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval, every, pause = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local max_wait, day_ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local campaign_next = tonumber(redis.call('GET', KEYS[1]) or '0')
local count = (#KEYS - 2) / 2
local best, best_at = 0, 0
for i = 1, count do
  local cap = tonumber(ARGV[5 + i])
  local used = tonumber(redis.call('GET', KEYS[2 + 2 * i]) or '0')
  if cap == 0 or used < cap then
    local at = math.max(now, campaign_next, tonumber(redis.call('GET', KEYS[1 + 2 * i]) or '0'))
    if best == 0 or at < best_at then best, best_at = i, at end
  end
end
if best == 0 then return {0, 0} end
if best_at - now > max_wait then return {-best, best_at - now} end
local keep = best_at - now + interval + pause + 60000
redis.call('SET', KEYS[1 + 2 * best], best_at + interval, 'PX', keep)
local sent = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 86400000)
if every > 0 and sent % every == 0 then
  redis.call('SET', KEYS[1], best_at + interval + pause, 'PX', keep)
else
  redis.call('SET', KEYS[1], best_at + interval, 'PX', keep)
end
redis.call('INCR', KEYS[2 + 2 * best])
redis.call('EXPIRE', KEYS[2 + 2 * best], day_ttl)
return {best, best_at - now}
"""


@dataclass(frozen=True)
class Reservation:
    """`instance` set and `reserved`: send after `delay` seconds. Not reserved: the
    soonest slot is `delay` away (nothing booked). `instance` None: every instance is
    over its daily cap until the next local day."""

    instance: object | None
    delay: float
    reserved: bool


def daily_cap(instance, at: datetime) -> int:
    """Sends allowed today through `instance`; 0 means no cap.

    The number's own `daily_cap` wins; else a number marked `warmed_up` has the default
    cap; else the warm-up ladder counts from `sending_since` (when the operator says it
    started sending, here or elsewhere) or, failing that, from when it was added here.
    """
    if instance.provider == "sandbox":
        return 0
    if getattr(instance, "daily_cap", None) is not None:
        return instance.daily_cap
    if not getattr(instance, "warmed_up", False):
        since = getattr(instance, "sending_since", None)
        started = datetime.combine(since, datetime.min.time(), tzinfo=UTC) if since else instance.created_at
        age = at - started
        for days, cap in settings.CAMPAIGNS_WARMUP_LADDER:
            if age < timedelta(days=days):
                return cap
    return settings.CAMPAIGNS_INSTANCE_DAILY_CAP


def cap_status(instance, at: datetime | None = None) -> dict:
    """Today's cap of `instance` and the campaign sends left under it (None: no cap), for the API and the admin.

    `used` is the limiter's own count for the organization's local day, the one the cap is checked against.
    """
    at = at or timezone.now()
    cap = daily_cap(instance, at)
    day = local_day(instance.organization.time_zone, at)
    name = f"instance:{instance.id}:day:{day}"
    client = get_redis()
    if client is not None:
        used = int(client.get(key("limits", name)) or 0)
    else:
        slot = SendSlot.objects.filter(key=name, expires_at__gt=timezone.now()).values_list("value", flat=True).first()
        used = int(slot or 0)
    return {"cap": cap or None, "used": used, "left": max(cap - used, 0) if cap else None, "day": day}


def spacing(campaign) -> float:
    """Seconds between two sends of `campaign`, jitter included."""
    base = float(campaign.min_interval_seconds or 0)
    if campaign.rate_limit_per_hour:
        base = max(base, 3600.0 / campaign.rate_limit_per_hour)
    if campaign.interval_jitter_seconds:
        base += random.uniform(0, campaign.interval_jitter_seconds)
    return base


def is_unlimited(campaign, caps: list[int]) -> bool:
    spaced = campaign.min_interval_seconds or campaign.rate_limit_per_hour or campaign.pause_every_n_sends
    return not spaced and not any(caps)


def reserve(*, campaign, instances: list, at: datetime, max_wait: float) -> Reservation:
    """Book the next send slot of `campaign` on the best of `instances` (see module doc)."""
    caps = [daily_cap(instance, at) for instance in instances]
    if is_unlimited(campaign, caps):
        return Reservation(instances[0], 0.0, True)
    day = local_day(campaign.organization.time_zone, at)
    keys = [f"campaign:{campaign.id}:next", f"campaign:{campaign.id}:sent"]
    for instance in instances:
        keys += [f"instance:{instance.id}:next", f"instance:{instance.id}:day:{day}"]
    args = [
        int(spacing(campaign) * 1000),
        campaign.pause_every_n_sends or 0,
        int((campaign.pause_seconds or 0) * 1000),
        int(max_wait * 1000),
        2 * 86400,
        *caps,
    ]
    client = get_redis()
    if client is not None:
        redis_keys = [key("limits", k) for k in keys]
        chosen, delay_ms = client.eval(RESERVE_SCRIPT, len(keys), *redis_keys, *args)
        if delay_ms == -1:  # a day's count is missing: rebuilt from the database, then booked
            seed(client, redis_keys, campaign=campaign, instances=instances, at=at, interval_ms=args[0])
            chosen, delay_ms = client.eval(RESERVE_SCRIPT, len(keys), *redis_keys, *args)
    else:
        chosen, delay_ms = _reserve_in_database(keys, args)
    if chosen == 0:
        return Reservation(None, 0.0, False)
    return Reservation(instances[abs(chosen) - 1], delay_ms / 1000.0, chosen > 0)


def seed(client, redis_keys: list[str], *, campaign, instances: list, at: datetime, interval_ms: int) -> None:
    """Rebuild the limiter's keys that are missing from what the database knows was attempted."""
    zone = ZoneInfo(campaign.organization.time_zone)
    day_start = datetime.combine(at.astimezone(zone).date(), datetime.min.time(), tzinfo=zone)
    attempted = Recipient.objects.filter(attempted_at__isnull=False)
    day_ttl = 2 * 86400
    pipe = client.pipeline(transaction=False)
    for i, instance in enumerate(instances, start=1):
        through = attempted.filter(Q(instance_id=instance.id) | Q(execution__campaign=campaign, instance__isnull=True))
        used = through.filter(attempted_at__gte=day_start).count()
        pipe.set(redis_keys[2 * i + 1], used, ex=day_ttl, nx=True)
        last = through.filter(attempted_at__gte=at - timedelta(hours=1)).aggregate(last=Max("attempted_at"))["last"]
        if last is not None:
            pipe.set(redis_keys[2 * i], int(last.timestamp() * 1000) + interval_ms, px=interval_ms + 60000, nx=True)
    ours = attempted.filter(execution__campaign=campaign)
    last = ours.filter(attempted_at__gte=at - timedelta(hours=1)).aggregate(last=Max("attempted_at"))["last"]
    if last is not None:
        pipe.set(redis_keys[0], int(last.timestamp() * 1000) + interval_ms, px=interval_ms + 60000, nx=True)
    pipe.set(redis_keys[1], ours.filter(attempted_at__gte=at - timedelta(days=1)).count(), px=86400000, nx=True)
    pipe.execute()


def _reserve_in_database(keys: list[str], args: list[int]) -> tuple[int, int]:
    """The Lua script's algorithm on `SendSlot` rows (the embedded default has no Redis)."""
    interval, every, pause, max_wait, day_ttl, *caps = args
    now = int(time.time() * 1000)
    expires = timezone.now() + timedelta(seconds=day_ttl)
    with transaction.atomic():
        # Rows are created and locked in key order: two campaigns sharing numbers listed in
        # another order would otherwise lock them in opposite orders and deadlock.
        SendSlot.objects.bulk_create(
            [SendSlot(key=k, value=0, expires_at=expires) for k in sorted(keys)], ignore_conflicts=True
        )
        locked = SendSlot.objects.select_for_update().filter(key__in=keys).order_by("key")
        slots = {slot.key: slot for slot in locked}
        # A row the sweep deleted (expired) between the insert and the lock counts as 0.
        value = {k: (slots[k].value if k in slots and slots[k].expires_at > timezone.now() else 0) for k in keys}
        campaign_next = value[keys[0]]
        best, best_at = 0, 0
        for i, cap in enumerate(caps, start=1):
            if cap == 0 or value[keys[2 * i + 1]] < cap:
                at = max(now, campaign_next, value[keys[2 * i]])
                if best == 0 or at < best_at:
                    best, best_at = i, at
        if best == 0:
            return 0, 0
        if best_at - now > max_wait:
            return -best, best_at - now
        sent = value[keys[1]] + 1
        updates = {
            keys[2 * best]: best_at + interval,
            keys[1]: sent,
            keys[0]: best_at + interval + (pause if every and sent % every == 0 else 0),
            keys[2 * best + 1]: value[keys[2 * best + 1]] + 1,
        }
        SendSlot.objects.bulk_create(
            [SendSlot(key=k, value=v, expires_at=expires) for k, v in sorted(updates.items())],
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=["value", "expires_at"],
        )
        return best, best_at - now
