"""One Redis client per process, and the key prefix every key goes under.

Only used when `REDIS_URL` is set; code that needs shared state must also work
without it (on the database), since the embedded default has no Redis.
"""

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=1)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)


def get_redis() -> redis.Redis | None:
    if not settings.REDIS_URL:
        return None
    return _client(settings.REDIS_URL)


def key(*parts) -> str:
    """A Redis key under this deployment's (or this test's) prefix."""
    return ":".join([settings.REDIS_KEY_PREFIX, *map(str, parts)])
