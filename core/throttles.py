"""DRF throttles of the API: per token (or session user) and per address.

The rates are read from the settings at each request (`API_THROTTLE_TOKEN_RATE`,
`API_THROTTLE_ADDRESS_RATE`, e.g. "600/min"; "" turns one off), so tests and deployments
change them without re-importing DRF. The history lives in the cache, which is Redis in
production: every web process shares it. A throttled request gets 429 with `Retry-After`.

Requests without valid credentials never reach a throttle (DRF authenticates first):
those are limited by `core.ratelimit.api_auth_failures`, in `core.api.exception_handler`.
"""

import logging

import redis
from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from core.ratelimit import client_ip

logger = logging.getLogger(__name__)


class SettingsRateThrottle(SimpleRateThrottle):
    setting = ""

    def get_rate(self):
        return getattr(settings, self.setting) or None

    def allow_request(self, request, view):
        # With the cache (Redis) away the API still answers: unthrottled until it is back.
        try:
            return super().allow_request(request, view)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            logger.warning("throttle %s skipped, its cache is unavailable: %s", self.scope, error)
            return True


class TokenRateThrottle(SettingsRateThrottle):
    """One bucket per API token; a session (the browsable API) has one per user."""

    scope = "token"
    setting = "API_THROTTLE_TOKEN_RATE"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        token_id = getattr(request.auth, "id", None)
        ident = f"t{token_id}" if token_id is not None else f"u{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AddressRateThrottle(SettingsRateThrottle):
    """One bucket per client address, whatever the credentials (many tokens from one host)."""

    scope = "address"
    setting = "API_THROTTLE_ADDRESS_RATE"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}
