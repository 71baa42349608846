"""Errors that say a service this process depends on is away, not that the work is wrong.

Work that meets one is put back to be done again soon, with no retry counted against it:
the database or Redis restarting is an outage of seconds, not a fault of the message.
"""

import redis
from django.db import InterfaceError, OperationalError

OUTAGES = (redis.ConnectionError, redis.TimeoutError, OperationalError, InterfaceError)


def is_outage(error: BaseException) -> bool:
    return isinstance(error, OUTAGES)
