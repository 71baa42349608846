"""Errors that say a service this process depends on is away, not that the work is wrong.

Work that meets one is put back to be done again soon, with no retry counted against it:
the database or Redis restarting is an outage of seconds, not a fault of the message.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import kombu.exceptions
import redis
from django.db import InterfaceError, OperationalError, close_old_connections, connection

logger = logging.getLogger(__name__)

# The broker's own connection errors (publishing a task) come wrapped as kombu's OperationalError.
OUTAGES = (
    redis.ConnectionError,
    redis.TimeoutError,
    OperationalError,
    InterfaceError,
    kombu.exceptions.OperationalError,
)

T = TypeVar("T")


def is_outage(error: BaseException) -> bool:
    return isinstance(error, OUTAGES)


def through_outages(work: Callable[[], T], *, patience: float, backoff: float = 0.25, most: float = 1.0) -> T:
    """Run `work`, again after a short pause each time it meets an outage, for up to `patience` seconds.

    Between tries the database connection is dropped, so the next try opens a fresh one.
    Pauses grow from `backoff` to `most`: work resumes within about `most` of the service being back.
    """
    give_up_at = time.monotonic() + patience
    pause = backoff
    while True:
        try:
            return work()
        except OUTAGES as error:
            if time.monotonic() + pause > give_up_at:
                raise
            logger.warning("outage, retrying in %.2fs: %s", pause, error)
            if isinstance(error, (OperationalError, InterfaceError)):
                connection.close()
            else:
                close_old_connections()
            time.sleep(pause)
            pause = min(most, pause * 2)
