"""Daily counters and the health score, written without a hot row per message.

Each `record_*` call for a message (one per send and per status webhook) would
otherwise UPDATE the same instance row, and concurrent webhooks would queue on its
lock. With Redis, a call is one HINCRBY on the instance's hash plus a SADD to a
"dirty" set; `flush()` (a beat task every few seconds) takes each dirty hash
atomically and applies it with one locked UPDATE of the row, which also rescores
health. Without Redis (the embedded SQLite default, one small machine) the deltas
are applied at once.

A sender of many messages in a row (the campaign dispatcher's batch) wraps them in
`deferred()`: the thread's increments are summed and added in one round trip when the
block ends. A process that dies inside the block loses those few counts.

A flush that lands just after local midnight counts the last few seconds of the
day before into the new day; counters are for operators, not billing.
"""

import logging
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from core.redis import get_redis, key
from instances.models import WhatsAppInstance

logger = logging.getLogger(__name__)

FLUSH_BATCH = 500
COUNTER_FIELDS = [*WhatsAppInstance.COUNTER_FIELDS.values(), "disconnects_today", "counters_date"]

# Read and delete a hash in one step, so an increment lands either in this flush or the next.
_TAKE_HASH = "local v = redis.call('HGETALL', KEYS[1]) redis.call('DEL', KEYS[1]) return v"


def _hash_key(instance_id) -> str:
    return key("instances", "counters", instance_id)


def _dirty_key() -> str:
    return key("instances", "counters", "dirty")


def local_today(time_zone: str) -> date:
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(settings.TIME_ZONE)
    return timezone.now().astimezone(zone).date()


_deferred = threading.local()


def add(*, instance_id: int, counter: str, count: int = 1) -> None:
    if counter not in WhatsAppInstance.COUNTER_FIELDS:
        raise ValueError(f"Unknown counter {counter!r}")
    pending = getattr(_deferred, "deltas", None)
    if pending is not None:
        pending[(instance_id, counter)] += count
        return
    _add_all({(instance_id, counter): count})


@contextmanager
def deferred():
    """Sum this thread's `add()` calls inside the block and add them in one round trip at its end."""
    if getattr(_deferred, "deltas", None) is not None:
        yield  # already inside one: the outer block adds them
        return
    _deferred.deltas = Counter()
    try:
        yield
    finally:
        deltas, _deferred.deltas = _deferred.deltas, None
        if deltas:
            _add_all(deltas)


def _add_all(deltas: dict[tuple[int, str], int]) -> None:
    client = get_redis()
    if client is None:
        by_instance: dict[int, dict[str, int]] = {}
        for (instance_id, counter), count in deltas.items():
            by_instance.setdefault(instance_id, {})[counter] = count
        for instance_id, counts in by_instance.items():
            apply_deltas(instance_id=instance_id, deltas=counts)
        return
    pipe = client.pipeline(transaction=True)
    for (instance_id, counter), count in deltas.items():
        pipe.hincrby(_hash_key(instance_id), counter, count)
    pipe.sadd(_dirty_key(), *{instance_id for instance_id, _ in deltas})
    pipe.execute()


def apply_deltas(*, instance_id: int, deltas: dict[str, int]) -> bool:
    """Add `deltas` to the instance's counters for its local today and rescore; False if it is gone."""
    with transaction.atomic():
        instance = (
            WhatsAppInstance.objects.select_for_update(of=("self",))
            .select_related("organization")
            .filter(id=instance_id)
            .first()
        )
        if instance is None:
            return False
        instance.apply_counter_deltas(deltas, today=local_today(instance.organization.time_zone))
        instance.save(update_fields=[*COUNTER_FIELDS, "health_score", "updated_at"])
        record_day(instance)
    return True


def record_day(instance: WhatsAppInstance) -> None:
    """Upsert the instance's row of its current local day from its counters (the health history)."""
    from instances.models import InstanceDay

    values = {
        "sent": instance.sent_today,
        "delivered": instance.delivered_today,
        "read": instance.read_today,
        "failed": instance.failed_today,
        "replies": instance.replies_today,
        "disconnects": instance.disconnects_today,
        "health_score": instance.health_score,
    }
    InstanceDay.objects.bulk_create(
        [InstanceDay(instance_id=instance.id, day=instance.counters_date, **values)],
        update_conflicts=True,
        unique_fields=["instance", "day"],
        update_fields=list(values),
    )


def flush(*, limit: int = FLUSH_BATCH) -> int:
    """Apply the counters accumulated in Redis; returns how many instances were updated."""
    client = get_redis()
    if client is None:
        return 0
    take = client.register_script(_TAKE_HASH)
    updated = 0
    for raw_id in client.spop(_dirty_key(), limit) or []:
        instance_id = int(raw_id)
        values = take(keys=[_hash_key(instance_id)])
        deltas = {values[i].decode(): int(values[i + 1]) for i in range(0, len(values), 2)}
        if not deltas:
            continue
        try:
            updated += apply_deltas(instance_id=instance_id, deltas=deltas)
        except DatabaseError:
            # Put them back for the next flush rather than lose them.
            add_back = client.pipeline(transaction=True)
            for counter, count in deltas.items():
                add_back.hincrby(_hash_key(instance_id), counter, count)
            add_back.sadd(_dirty_key(), instance_id)
            add_back.execute()
            raise
    return updated


def pending(*, instance_id: int) -> dict[str, int]:
    """Counts recorded but not flushed yet (the admin shows them beside the row's)."""
    client = get_redis()
    if client is None:
        return {}
    return {k.decode(): int(v) for k, v in client.hgetall(_hash_key(instance_id)).items()}


def reset_daily() -> int:
    """Zero the counters of instances whose organization's local date moved on; returns how many."""
    reset = 0
    zones = WhatsAppInstance.objects.order_by().values_list("organization__time_zone", flat=True).distinct()
    for time_zone in list(zones):
        today = local_today(time_zone)
        reset += (
            WhatsAppInstance.objects.filter(organization__time_zone=time_zone)
            .exclude(counters_date=today)
            .update(
                counters_date=today,
                disconnects_today=0,
                updated_at=timezone.now(),
                **dict.fromkeys(WhatsAppInstance.COUNTER_FIELDS.values(), 0),
            )
        )
    return reset
