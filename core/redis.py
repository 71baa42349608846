"""One Redis client per process, and the key prefix every key goes under.

Only used when `REDIS_URL` is set; code that needs shared state must also work
without it (on the database), since the embedded default has no Redis.

Every key starts with `REDIS_KEY_PREFIX` and this database's installation id (a random
value the `accounts` migrations store in the database): a new database pointed at a
Redis that served another one starts with no counters, limiter slots or debounce
bursts of the old one. A database restored from a backup keeps its id; see
docs/operations.md "Backups and restores" for what to flush then.
"""

from functools import lru_cache

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction


@lru_cache(maxsize=1)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)


def get_redis() -> redis.Redis | None:
    if not settings.REDIS_URL:
        return None
    return _client(settings.REDIS_URL)


_installation: dict[str, str] = {}


def installation_id() -> str:
    """This database's id (read once per process and database); "" before the migration ran."""
    name = str(settings.DATABASES["default"]["NAME"])
    if name not in _installation:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT key FROM accounts_installation WHERE id = 1")
                row = cursor.fetchone()
        except DatabaseError:
            return ""  # not migrated yet: nothing that counts runs before `migrate`
        _installation[name] = row[0] if row else ""
    return _installation[name]


def prefix() -> str:
    """`REDIS_KEY_PREFIX:<installation id>`, the start of every key this deployment writes."""
    install = installation_id()
    return f"{settings.REDIS_KEY_PREFIX}:{install}" if install else settings.REDIS_KEY_PREFIX


def key(*parts) -> str:
    """A Redis key under this deployment's (or this test's) prefix."""
    return ":".join([prefix(), *map(str, parts)])


def cache_key(key: str, key_prefix: str, version) -> str:
    """Django cache's KEY_FUNCTION: the cache's keys go under the same prefix."""
    return f"{prefix()}:cache:{version}:{key}"
