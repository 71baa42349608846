"""Bursts: one Celery task per contact's burst of messages, across processes.

The messages themselves are durable rows (`MessageHistory` with `processed_at`
empty); this module only decides whether an arrival needs a new task. With Redis a
marker per (instance, contact) says "a task is already waiting for this burst"; the
task re-queues itself until the contact has been quiet for DEBOUNCE_TIME, then drops
the marker *before* taking the rows, so a message that lands meanwhile is either
taken by this run or sets a new marker and gets its own task. Without Redis every
arrival queues a task and each defers to the newest message's task. A lost task is
caught by the `process_stale_inbound` sweep, so nothing waits forever.
"""

from core.redis import get_redis, key

MARKER_MIN_TTL_SECONDS = 120


def _marker(instance_id: int, contact_id: int) -> str:
    return key("flows", "burst", instance_id, contact_id)


def note_arrival(*, instance_id: int, contact_id: int, debounce_ms: int) -> bool:
    """True when the caller must queue a burst task for this contact."""
    client = get_redis()
    if client is None:
        return True
    ttl = max(MARKER_MIN_TTL_SECONDS, debounce_ms * 3 // 1000)
    marker = _marker(instance_id, contact_id)
    if client.set(marker, 1, nx=True, ex=ttl):
        return True
    # A long burst keeps its marker alive while the task keeps re-queueing.
    client.expire(marker, ttl)
    return False


def release(*, instance_id: int, contact_id: int) -> None:
    client = get_redis()
    if client is not None:
        client.delete(_marker(instance_id, contact_id))


def uses_shared_marker() -> bool:
    return get_redis() is not None
