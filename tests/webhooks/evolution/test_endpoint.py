"""The endpoint's answers: authentication, errors, URL variants, and nothing changed when refused.

Every test runs twice: through the one statement that looks up, authenticates and stores
(PostgreSQL), and through the lookup-then-insert path other databases take.
"""

import json

import pytest

from campaigns.models import Recipient
from webhooks.evolution import intake, queue
from webhooks.models import WebhookEvent

from .conftest import API_KEY, load, post

DELIVERED = "v2/messages_update_delivered.json"


@pytest.fixture(autouse=True, params=["one_statement", "lookup_then_insert"])
def store_path(request, monkeypatch):
    if request.param == "lookup_then_insert":
        monkeypatch.setattr(intake, "can_store_posted", lambda: False)
    return request.param


def assert_nothing_changed(recipient):
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.SENT
    assert not WebhookEvent.objects.exists()


def test_it_refuses_an_unknown_instance(instance, recipient):
    payload = load(DELIVERED) | {"instance": "someone-else"}

    response = post(instance, payload)

    assert response.status_code == 404
    assert_nothing_changed(recipient)


def test_it_refuses_a_bad_secret_in_the_path(instance, recipient):
    response = post(instance, load(DELIVERED), path="/api/webhooks/evolution/not-the-secret-at-all-0000000000/")

    assert response.status_code == 401
    assert_nothing_changed(recipient)


def test_it_refuses_another_instances_secret(org_b, instance, recipient):
    from tests.factories.instances import EvolutionInstanceFactory

    other = EvolutionInstanceFactory(organization=org_b)

    response = post(other, load(DELIVERED))

    assert response.status_code == 401
    assert_nothing_changed(recipient)


def test_it_accepts_the_secret_in_a_header(instance, recipient, apply_in_request):
    secret = instance.webhook_secret
    response = post(instance, load(DELIVERED), path="/api/webhooks/evolution/", X_Webhook_Secret=secret)

    assert response.status_code == 200
    assert response.json()["status"] == "delivered"


def test_it_refuses_a_wrong_header_secret_even_with_a_right_api_key(instance, recipient):
    response = post(instance, load(DELIVERED), path="/api/webhooks/evolution/", X_Webhook_Secret="wrong")

    assert response.status_code == 401
    assert_nothing_changed(recipient)


def test_it_accepts_the_api_key_in_the_payload(instance, recipient, apply_in_request):
    assert load(DELIVERED)["apikey"] == API_KEY

    response = post(instance, load(DELIVERED), path="/api/webhooks/evolution/")

    assert response.status_code == 200
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.DELIVERED


@pytest.mark.parametrize("apikey", [None, "B6D711FCDE4D4FD5936544120E713977"])
def test_it_refuses_a_missing_or_wrong_api_key_without_a_secret(instance, recipient, apikey):
    response = post(instance, load(DELIVERED) | {"apikey": apikey}, path="/api/webhooks/evolution/")

    assert response.status_code == 401
    assert_nothing_changed(recipient)


@pytest.mark.parametrize(
    "suffix", ["messages-update", "/messages-update", "MESSAGES_UPDATE"], ids=["suffix", "double-slash", "upper"]
)
def test_it_takes_the_event_from_the_url_when_the_payload_has_none(suffix, instance, recipient, apply_in_request):
    payload = load(DELIVERED)
    del payload["event"]

    response = post(instance, payload, path=f"/api/webhooks/evolution/{instance.webhook_secret}/{suffix}")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "delivered"


def test_by_events_url_without_a_secret(instance, recipient, apply_in_request):
    response = post(instance, load(DELIVERED), path="/api/webhooks/evolution/messages-update")

    assert response.status_code == 200
    assert response.json()["status"] == "delivered"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "Malformed JSON"),
        (b"[1, 2]", "payload must be an object"),
        (json.dumps({"event": "messages.update", "data": {}}), "instance is missing"),
    ],
)
def test_it_answers_malformed_bodies_with_a_reason(body, reason, instance, recipient):
    response = post(instance, body)

    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert_nothing_changed(recipient)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda data: data.pop("keyId"), "data.keyId is missing"),
        (lambda data: data.update(keyId=12), "data.keyId must be a string"),
        (lambda data: data.update(status="ARRIVED"), "data.status 'ARRIVED' is not a known message status"),
        (lambda data: data.update(status=9), "data.status 9 is not a Baileys message status"),
    ],
)
def test_it_answers_a_broken_known_event_with_the_bad_field(change, reason, instance, recipient):
    payload = load(DELIVERED)
    change(payload["data"])

    response = post(instance, payload)

    assert response.status_code == 400
    assert response.json()["error"] == reason
    assert_nothing_changed(recipient)


def test_it_ignores_unknown_events(instance, recipient):
    response = post(instance, load(DELIVERED) | {"event": "labels.association", "data": {"whatever": 1}})

    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "reason": "event not handled"}
    assert_nothing_changed(recipient)


def test_it_only_takes_post(instance):
    from django.test import Client

    response = Client().get(f"/api/webhooks/evolution/{instance.webhook_secret}/")

    assert response.status_code == 405


def test_it_accepts_inline_media_up_to_ten_megabytes(instance, contact, recipient, apply_in_request):
    payload = load("v2/messages_upsert_image.json")
    payload["data"]["message"]["base64"] = "A" * (9 * 1024 * 1024)

    response = post(instance, payload)

    assert response.status_code == 200
    assert response.json()["status"] == "replied"


def test_it_refuses_bodies_over_ten_megabytes(instance, recipient):
    payload = load("v2/messages_upsert_image.json")
    payload["data"]["message"]["base64"] = "A" * (10 * 1024 * 1024)

    response = post(instance, payload)

    assert response.status_code == 413
    assert_nothing_changed(recipient)


def test_a_duplicate_delivery_is_stored_and_applied_once(instance, recipient, apply_in_request):
    first = post(instance, load(DELIVERED))
    again = post(instance, load(DELIVERED) | {"destination": "https://global-webhook.example.com/"})

    assert first.json()["status"] == "delivered"
    assert again.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.count() == 1


def test_by_default_it_stores_and_a_worker_applies(instance, recipient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(instance, load(DELIVERED))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert response.json() == {"status": "accepted", "event_id": event.id}
    assert event.status == WebhookEvent.Status.PENDING
    assert len(callbacks) == 1
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.SENT

    assert queue.apply_event(event_id=event.id) == "delivered"
    assert queue.apply_event(event_id=event.id) == "delivered"

    event.refresh_from_db()
    recipient.refresh_from_db()
    assert (event.status, event.result, event.attempts) == (WebhookEvent.Status.APPLIED, "delivered", 1)
    assert recipient.status == Recipient.Status.DELIVERED


def test_it_refuses_nan_which_is_not_json(instance, recipient):
    body = json.dumps(load(DELIVERED)).replace('"fromMe": true', '"fromMe": NaN')

    response = post(instance, body)

    assert response.status_code == 400
    assert response.json()["error"] == "Malformed JSON: NaN is not JSON"
    assert_nothing_changed(recipient)


def test_a_nul_character_which_jsonb_cannot_hold_is_stored_as_a_replacement_character(instance):
    payload = load("v2/messages_upsert_text.json")
    payload["data"]["message"]["conversation"] = "oi\u0000 tudo bem"

    response = post(instance, payload)

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    event = WebhookEvent.objects.get()
    assert event.payload["data"]["message"]["conversation"] == "oi\ufffd tudo bem"
