"""Who a request comes from, and a shared count of failed authentications per address.

The count lives in Redis (one pipelined INCR + EXPIRE NX + TTL, on failures only: a caller
with good credentials never touches it), or in the cache without Redis. Every process and
machine shares it, so a guesser gets the same answer whichever web process it reaches.
Fixed windows: the first failure of an address opens a window of `window` seconds; past
`limit` failures in it the caller gets 429 with `Retry-After` (the window's remaining time).
"""

import ipaddress
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from core.redis import get_redis, key


def client_ip(request) -> str:
    """The caller's address: REMOTE_ADDR, or with `TRUSTED_PROXY_COUNT` proxies in front, the
    address the outermost trusted proxy saw (that many entries from the right of X-Forwarded-For).

    Entries left of those are the client's own claims and are never trusted.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            remote = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return "unknown"


def client_ip_for_axes(request, *args, **kwargs) -> str | None:
    """django-axes' AXES_CLIENT_IP_CALLABLE: the same address the API and webhooks limit by
    (None for a request without one, e.g. the test client's `login()`)."""
    address = client_ip(request)
    return None if address == "unknown" else address


@dataclass(frozen=True)
class FailureLimit:
    """At most `limit` failed authentications per address per `window` seconds, for one `scope`."""

    scope: str
    limit: int
    window: int

    def record_failure(self, address: str) -> int | None:
        """Count one failure; the seconds to wait when the address is over the limit, else None."""
        if self.limit <= 0:
            return None
        name = key("authfail", self.scope, address)
        client = get_redis()
        if client is not None:
            pipe = client.pipeline(transaction=False)
            pipe.incr(name)
            pipe.expire(name, self.window, nx=True)
            pipe.ttl(name)
            count, _, ttl = pipe.execute()
        else:
            cache.add(name, 0, self.window)
            try:
                count = cache.incr(name)
            except ValueError:  # expired between add and incr
                cache.set(name, 1, self.window)
                count = 1
            ttl = self.window
        if count <= self.limit:
            return None
        return max(1, math.ceil(ttl if ttl and ttl > 0 else self.window))


def api_auth_failures() -> FailureLimit:
    return FailureLimit("api", settings.API_AUTH_FAILURE_LIMIT, settings.API_AUTH_FAILURE_WINDOW_SECONDS)


def webhook_auth_failures() -> FailureLimit:
    return FailureLimit("webhook", settings.WEBHOOKS_AUTH_FAILURE_LIMIT, settings.WEBHOOKS_AUTH_FAILURE_WINDOW_SECONDS)
