"""Hostile payloads to the Evolution endpoint: never a 5xx, and a valid event is kept.

Issue 12, findings 1-3: too deep is a 400 (no event hides 3,000 levels down); NUL,
lone surrogates and overflowing numbers are replaced at parse time and the event is
stored, since a 5xx makes Evolution post it again forever.
"""

import json

import pytest

from campaigns.models import Recipient
from webhooks.models import WebhookEvent

from .conftest import load, post

pytestmark = pytest.mark.django_db(transaction=True)

DELIVERED = "v2/messages_update_delivered.json"
TEXT = "v2/messages_upsert_text.json"


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"event": "messages.update", "data": ' + b"[" * 5_000])
def test_deep_nesting_is_a_400(instance, body):
    response = post(instance, body)

    assert response.status_code == 400 and "nest" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_nul_and_lone_surrogates_are_replaced_and_the_event_kept(instance, contact):
    payload = load(TEXT)
    payload["data"]["message"]["conversation"] = "quero\x00 sair \ud800"
    payload["data"]["pushName\x00"] = "x"
    payload["data"]["key"]["id"] = "3A5C\x007E9B"

    response = post(instance, json.dumps(payload))

    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert event.payload["data"]["message"]["conversation"] == "quero\ufffd sair \ufffd"
    assert "pushName\ufffd" in event.payload["data"]
    assert "\x00" not in event.dedupe_key


def test_an_overflowing_datetime_keeps_the_event_with_the_time_it_was_received(instance, recipient, apply_in_request):
    body = json.dumps(load(DELIVERED)).replace(
        '"status": "DELIVERY_ACK"', '"status": "DELIVERY_ACK", "datetime": 1e999'
    )

    response = post(instance, body)

    assert response.status_code == 200, response.content
    recipient.refresh_from_db()
    event = WebhookEvent.objects.get()
    assert recipient.status == Recipient.Status.DELIVERED
    assert recipient.delivered_at == event.received_at


def test_a_huge_integer_datetime_keeps_the_event(instance, recipient, apply_in_request):
    payload = load(DELIVERED)
    payload["data"]["datetime"] = 10**400

    response = post(instance, json.dumps(payload))

    assert response.status_code == 200, response.content
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.DELIVERED


@pytest.mark.parametrize("value", ["9" * 5_000, "²", "١٢٣"])
def test_digit_strings_python_cannot_read_as_an_integer_keep_the_event(instance, recipient, apply_in_request, value):
    payload = load(DELIVERED)
    payload["data"]["datetime"] = value

    response = post(instance, json.dumps(payload))

    assert response.status_code == 200, response.content
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.DELIVERED


@pytest.mark.parametrize("value", ["9" * 5_000, "²"])
def test_a_message_timestamp_python_cannot_read_keeps_the_message(instance, contact, value):
    payload = load(TEXT)
    payload["data"]["messageTimestamp"] = value

    response = post(instance, json.dumps(payload))

    assert response.status_code == 200, response.content
    assert WebhookEvent.objects.count() == 1


def test_a_message_id_longer_than_whatsapps_is_a_400_naming_it(instance):
    payload = load(TEXT)
    payload["data"]["key"]["id"] = "A" * 5_000

    response = post(instance, json.dumps(payload))

    assert response.status_code == 400 and "data.key.id" in response.json()["error"]


def test_a_long_push_name_is_cut_and_the_message_applied(instance, contact, apply_in_request):
    payload = load(TEXT)
    payload["data"]["pushName"] = "N" * 5_000

    response = post(instance, json.dumps(payload))

    assert response.status_code == 200, response.content
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.APPLIED
