"""`qrcode.updated`: the pushed code is kept a minute for the connect page, never stored as an event.

Every test runs through both store paths (one statement on PostgreSQL, lookup then insert
elsewhere): a QR code takes neither, it is authenticated and kept in the cache.
"""

import socket

import pytest
from django.core.cache import cache

from core.redis import get_redis
from instances import qr_codes
from webhooks.evolution import intake
from webhooks.models import WebhookEvent

from .conftest import load, post

pytestmark = pytest.mark.django_db(transaction=True)

V1, V2 = "v1/qrcode_updated.json", "v2/qrcode_updated.json"
PNG = load(V2)["data"]["qrcode"]["base64"]


@pytest.fixture(autouse=True, params=["one_statement", "lookup_then_insert"])
def store_path(request, monkeypatch):
    if request.param == "lookup_then_insert":
        monkeypatch.setattr(intake, "can_store_posted", lambda: False)
    return request.param


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if the event would queue anything: a drain, a settle or a wake-up."""
    queued = []
    monkeypatch.setattr(intake, "schedule_drain", lambda **kwargs: queued.append(("drain", kwargs)))
    monkeypatch.setattr(intake, "schedule_settle", lambda **kwargs: queued.append(("settle", kwargs)))
    monkeypatch.setattr(intake._drain_waker, "ask", lambda: queued.append(("wake", {})))
    return queued


def pushed(instance):
    """The code the connect page would show (never asking `instance/connect`)."""
    return qr_codes.newest(instance_id=instance.id, refresh=dict, refresh_seconds=20)


def with_qrcode(**fields) -> dict:
    payload = load(V2)
    payload["data"]["qrcode"].update(fields)
    return payload


@pytest.mark.parametrize("name", [V1, V2])
def test_it_keeps_the_pushed_code_and_queues_nothing(name, instance, no_work, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(instance, load(name))

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "kept"}
    assert pushed(instance).qr == load(name)["data"]["qrcode"]["base64"]
    assert not WebhookEvent.objects.exists()
    assert no_work == [] and callbacks == []


def test_the_code_expires_within_a_minute(instance):
    post(instance, load(V2))

    client = get_redis()
    ttl = client.ttl(cache.make_key(f"instances:qr:pushed:{instance.id}"))
    assert 0 < ttl <= qr_codes.PUSHED_SECONDS


@pytest.mark.parametrize(
    ("event", "suffix"), [("QRCODE_UPDATED", ""), ("qrcode-updated", ""), (None, "qrcode-updated")]
)
def test_it_reads_every_spelling_of_the_event(event, suffix, instance):
    payload = load(V1)
    payload.pop("event")
    if event:
        payload["event"] = event

    response = post(instance, payload, path=f"/api/webhooks/evolution/{instance.webhook_secret}/{suffix}")

    assert response.json() == {"status": "kept"}
    assert pushed(instance) is not None


def test_a_newer_code_replaces_the_older(instance):
    post(instance, load(V1))
    post(instance, load(V2))

    assert pushed(instance).qr == PNG


def test_it_keeps_a_pairing_code_it_can_show_and_drops_one_it_cannot(instance):
    post(instance, with_qrcode(pairingCode="WZYEH1YY"))
    assert (pushed(instance).qr, pushed(instance).pairing_code) == (PNG, "WZYEH1YY")

    post(instance, with_qrcode(pairingCode="<script>alert(1)</script>"))
    assert (pushed(instance).qr, pushed(instance).pairing_code) == (PNG, "")


def test_an_instance_keeps_only_its_own_codes(org_a, instance):
    from tests.factories.instances import EvolutionInstanceFactory

    other = EvolutionInstanceFactory(organization=org_a, instance_name="loja-sul")
    post(instance, load(V2))

    assert pushed(other) is None


@pytest.mark.parametrize(
    ("base64", "reason"),
    [
        ("data:image/png;base64," + "A" * (64 * 1024), "data.qrcode.base64 is larger than 64 KB"),
        ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ", "data.qrcode.base64 is not an image data URL"),
        ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "data.qrcode.base64 is not an image data URL"),
        ("data:image/svg+xml;base64,PHN2Zy8+", "data.qrcode.base64 is not an image data URL"),
        ("javascript:alert(1)", "data.qrcode.base64 is not an image data URL"),
        ("data:image/png;base64,iVBOR w0KGgo=", "data.qrcode.base64 is not an image data URL"),
        ("data:image/png;base64,iVBORw0KGgo", "data.qrcode.base64 is not an image data URL"),
        ("", "data.qrcode.base64 is not an image data URL"),
    ],
)
def test_a_code_that_is_not_a_small_image_is_dropped(base64, reason, instance, no_work):
    response = post(instance, with_qrcode(base64=base64))

    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "reason": reason}
    assert pushed(instance) is None
    assert not WebhookEvent.objects.exists() and no_work == []


def test_a_huge_code_is_dropped_without_a_5xx(instance):
    response = post(instance, with_qrcode(base64="data:image/png;base64," + "A" * (5 * 1024 * 1024)))

    assert response.json() == {"status": "ignored", "reason": "data.qrcode.base64 is larger than 64 KB"}
    assert pushed(instance) is None


def test_the_qr_code_limit_message_is_ignored(instance):
    # What Evolution posts instead of a code once its QRCODE_LIMIT is reached.
    payload = load(V2) | {"data": {"message": "QR code limit reached, please login again", "statusCode": 500}}

    response = post(instance, payload)

    assert response.json() == {"status": "ignored", "reason": "no qr code"}
    assert pushed(instance) is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"qrcode": "data:image/png;base64,iVBORw0KGgo="}, "data.qrcode must be an object"),
        ({"qrcode": {"base64": 12}}, "data.qrcode.base64 must be a string"),
        ("qrcode", "data must be an object"),
    ],
)
def test_a_broken_qrcode_event_is_a_400_naming_the_field(data, reason, instance):
    response = post(instance, load(V2) | {"data": data})

    assert response.status_code == 400
    assert response.json() == {"status": "error", "error": reason}
    assert pushed(instance) is None


def test_a_caller_with_a_wrong_secret_keeps_no_code(instance):
    response = post(instance, load(V2), path="/api/webhooks/evolution/not-the-secret-of-this-instance-x/")

    assert response.status_code == 401
    assert pushed(instance) is None


def test_a_caller_with_a_wrong_api_key_keeps_no_code(instance):
    response = post(instance, load(V2) | {"apikey": "not-the-key"}, path="/api/webhooks/evolution/")

    assert response.status_code == 401
    assert pushed(instance) is None


def test_an_unreachable_cache_is_a_200_that_keeps_nothing(instance, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
        }
    }

    response = post(instance, load(V2))

    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "reason": "qr code not kept: the cache is unavailable"}
    assert not WebhookEvent.objects.exists()
