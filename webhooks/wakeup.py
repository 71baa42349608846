"""Waking the drainer (`webhooks.evolution.queue.drain`) once new events are committed.

With Redis, a wake-up is `SET <drain key> NX EX 1` and, when that set the key, one Celery
message: while the key exists a drainer is queued or running, and it deletes the key
before its last look, so it sees every event committed before any attempt that found
the key. A wake-up's whole promise is therefore "an attempt after the commit".

Web processes keep that promise from one thread each (`DrainWaker`): a request only
raises a flag, and the thread makes one attempt per interval for everything committed
before it. At a thousand events a second the attempts made by the requests themselves
were a sixth of a web worker's Python time. Without Redis each event gets its own
`apply_webhook_event` task.
"""

import functools
import logging
import os
import threading
import time

from django.db import transaction

from core.redis import get_redis, key

logger = logging.getLogger(__name__)


def schedule_drain(*, event_ids: list[int]) -> None:
    """Wake a drainer for newly stored events, at most one Celery message a second: the rows are the queue."""
    from webhooks.tasks import apply_webhook_event, drain_webhook_events

    client = get_redis()
    if client is None:
        for event_id in event_ids:
            transaction.on_commit(functools.partial(apply_webhook_event.delay, event_id))
    elif client.set(drain_key(), 1, nx=True, ex=1):
        transaction.on_commit(drain_webhook_events.delay)


def drain_key() -> str:
    return key("webhooks", "drain")


class DrainWaker:
    """One thread per process making the wake-up attempts its requests ask for, one per `interval`."""

    def __init__(self, *, interval: float = 0.05):
        self.interval = interval
        self._asked = threading.Event()
        self._lock = threading.Lock()
        self._pid: int | None = None

    def ask(self) -> None:
        """Call after the commit of new events: an attempt follows within about `interval`."""
        if self._pid != os.getpid():
            self._start()
        self._asked.set()

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            # A thread does not survive a fork: each process starts its own.
            threading.Thread(target=self._run, name="webhooks-drain-waker", daemon=True).start()
            self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            self._asked.wait()
            time.sleep(self.interval)  # gather what else commits meanwhile into this attempt
            self._asked.clear()
            # Asked after this clear: another round. Asked before it: committed before the attempt.
            try:
                schedule_drain(event_ids=[])
            except Exception:  # a waker that died would wake nothing more in this process
                # The events are stored all the same: the beat's retry of unapplied events applies them.
                logger.exception("webhooks: no drainer woken")
