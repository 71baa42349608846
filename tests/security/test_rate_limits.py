"""Finding 8 of issue 12: login lockout, API throttles, and limits on failed authentications
(the API's and the webhooks'), every one answering 429 with Retry-After, counted in the real Redis."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.redis import get_redis, key
from tests.factories.instances import EvolutionInstanceFactory, GosacInstanceFactory

pytestmark = pytest.mark.django_db


def _login(username, password, address="10.1.1.1"):
    return Client(REMOTE_ADDR=address).post("/admin/login/?next=/admin/", {"username": username, "password": password})


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("olga", "olga@example.com", "right-pass", is_staff=True)


def test_the_admin_login_locks_a_username_and_address_out_after_the_failure_limit(settings, staff):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(4):
        assert _login("olga", "wrong").status_code == 200  # the form again, with its error
    locked = _login("olga", "wrong")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == 15 * 60
    # Locked: even the right password is refused from that address...
    assert _login("olga", "right-pass").status_code == 429
    # ...but the same user from another address, and another user from this one, log in.
    assert _login("olga", "right-pass", address="10.2.2.2").status_code == 302
    other = type(staff).objects.create_user("bia", "bia@example.com", "bia-pass", is_staff=True)
    assert _login(other.username, "bia-pass").status_code == 302
    # The cool-off over, olga logs in from the first address again.
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert _login("olga", "right-pass").status_code == 302


def test_a_good_login_resets_the_count(settings, staff):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        _login("olga", "wrong")
    assert _login("olga", "right-pass").status_code == 302
    for _ in range(2):
        assert _login("olga", "wrong").status_code == 200
    assert _login("olga", "right-pass").status_code == 302


def _get(path, token=None, address="10.1.1.1"):
    client = APIClient(REMOTE_ADDR=address)
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(path)


def test_bad_tokens_from_one_address_get_429_past_the_limit(settings, alice):
    from accounts.services import create_api_token

    settings.API_AUTH_FAILURE_LIMIT = 10
    settings.API_AUTH_FAILURE_WINDOW_SECONDS = 120
    answers = [_get("/api/v1/me", token=f"guess-{n}").status_code for n in range(10)]
    answers.append(_get("/api/v1/me").status_code)  # no credentials at all counts too
    assert answers == [401] * 10 + [429]
    throttled = _get("/api/v1/me", token="guess-x")
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 120
    assert "Too many failed authentications" in throttled.json()["detail"]
    # The count is in Redis, where every web process reads it.
    assert int(get_redis().get(key("authfail", "api", "10.1.1.1"))) == 12
    # A valid token is never slowed by it; another address is not concerned.
    _, good = create_api_token(user=alice, name="ok")
    assert _get("/api/v1/me", token=good).status_code == 200
    assert _get("/api/v1/me", token="guess-y", address="10.9.9.9").status_code == 401


def test_each_token_has_its_own_rate(settings, alice):
    from accounts.services import create_api_token

    settings.API_THROTTLE_TOKEN_RATE = "3/min"
    _, first = create_api_token(user=alice, name="one")
    _, second = create_api_token(user=alice, name="two")
    assert [_get("/api/v1/me", token=first).status_code for _ in range(4)] == [200, 200, 200, 429]
    throttled = _get("/api/v1/me", token=first)
    assert throttled.status_code == 429 and 0 < int(throttled["Retry-After"]) <= 60
    assert _get("/api/v1/me", token=second).status_code == 200


def test_one_address_has_its_own_rate_whatever_the_tokens(settings, alice):
    from accounts.services import create_api_token

    settings.API_THROTTLE_ADDRESS_RATE = "4/min"
    tokens = [create_api_token(user=alice, name=f"t{n}")[1] for n in range(5)]
    assert [_get("/api/v1/me", token=t).status_code for t in tokens] == [200, 200, 200, 200, 429]
    assert _get("/api/v1/me", token=tokens[0], address="10.3.3.3").status_code == 200


def test_the_address_is_the_trusted_proxys_view_of_the_client(settings, alice):
    settings.API_AUTH_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXY_COUNT = 1
    client = APIClient(REMOTE_ADDR="10.0.0.1")  # the proxy
    statuses = [client.get("/api/v1/me", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.7").status_code for n in range(3)]
    # The spoofable left-most entries change; the address the proxy saw does not.
    assert statuses == [401, 401, 429]
    assert client.get("/api/v1/me", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 401


def _evolution(path, payload, address="10.1.1.1"):
    return Client(REMOTE_ADDR=address).post(path, data=json.dumps(payload), content_type="application/json")


def test_failed_webhook_authentications_are_limited_per_address_and_neighbours_keep_posting(settings, org_a):
    settings.WEBHOOKS_AUTH_FAILURE_LIMIT = 6
    settings.WEBHOOKS_AUTH_FAILURE_WINDOW_SECONDS = 300
    instance = EvolutionInstanceFactory(organization=org_a, instance_name="evo-a")
    event = {"event": "presence.update", "instance": "evo-a", "data": {}}
    wrong = [_evolution("/api/webhooks/evolution/not-the-secret-000000000000000/", event).status_code for _ in range(3)]
    unknown = {**event, "instance": "nobody"}
    wrong += [_evolution(f"/api/webhooks/evolution/{instance.webhook_secret}/", unknown).status_code for _ in range(3)]
    assert wrong == [401, 401, 401, 404, 404, 404]
    gosac = GosacInstanceFactory(organization=org_a)
    refused = Client(REMOTE_ADDR="10.1.1.1").post("/api/webhooks/gosac/guess/", data="{}", content_type="text/json")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 300
    assert _evolution("/api/webhooks/evolution/still-wrong-00000000000000000/", event).status_code == 429
    # The instance that authenticates is still heard from the same address (one Evolution
    # server posts for many instances), and the GOSAC one too.
    assert _evolution(f"/api/webhooks/evolution/{instance.webhook_secret}/", event).status_code == 200
    payload = {"type": "messages:created", "data": {}}
    ok = Client(REMOTE_ADDR="10.1.1.1").post(
        f"/api/webhooks/gosac/{gosac.webhook_secret}/", data=json.dumps(payload), content_type="application/json"
    )
    assert ok.status_code != 429
    assert int(get_redis().get(key("authfail", "webhook", "10.1.1.1"))) == 8
    elsewhere = _evolution("/api/webhooks/evolution/wrong-0000000000000000000000/", event, address="10.7.7.7")
    assert elsewhere.status_code == 401
