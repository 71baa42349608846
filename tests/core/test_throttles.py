"""The API's throttles when their cache (Redis) is away: requests go through, unthrottled."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

NOTHING_LISTENS = "redis://127.0.0.1:1/0"


def test_with_redis_down_the_api_still_answers_reads(settings, alice):
    from accounts.services import create_api_token

    _, token = create_api_token(user=alice, name="reads")
    settings.API_THROTTLE_TOKEN_RATE = "100/min"
    settings.API_THROTTLE_ADDRESS_RATE = "100/min"
    redis_cache = "django.core.cache.backends.redis.RedisCache"
    settings.CACHES = {"default": {"BACKEND": redis_cache, "LOCATION": NOTHING_LISTENS}}

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/contacts/").status_code == 200
