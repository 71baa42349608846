"""The endpoint: Meta's verification handshake, the signature, and bad input as a clear 4xx."""

import json

import pytest
from django.test import Client

from tests.support.fakes.graph_api import post_webhook, signature
from webhooks.models import WebhookEvent

from .conftest import load, post

pytestmark = pytest.mark.django_db


def verify(instance, **params):
    return Client().get(f"/api/webhooks/cloud/{instance.webhook_secret}/", params)


def test_verification_echoes_the_challenge_for_the_right_token(cloud):
    response = verify(
        cloud, **{"hub.mode": "subscribe", "hub.verify_token": "verify-5678", "hub.challenge": "1158201444"}
    )

    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "verify-5678", "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
def test_verification_is_refused_otherwise(cloud, params):
    assert verify(cloud, **params).status_code == 403


def test_an_unknown_secret_is_404(cloud):
    assert Client().get("/api/webhooks/cloud/nope/").status_code == 404


@pytest.mark.parametrize(
    "kwargs",
    [
        {"signed": False},
        {"secret": "another-app-secret"},
        {"header": "sha1=0123"},
        {"header": "sha256=" + "0" * 64},
        {"header": ""},
    ],
)
def test_a_post_without_the_right_signature_is_401_and_stores_nothing(cloud, kwargs):
    response = post(cloud, load("text_message.json"), **kwargs)

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_the_signature_is_of_the_raw_body(cloud):
    body = load("text_message.json")
    raw = json.dumps(body, indent=4).encode()  # same JSON, other bytes: its own signature
    assert post(cloud, raw, header=signature(json.dumps(body).encode(), "app-secret-1234")).status_code == 401
    assert post(cloud, raw).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Malformed JSON."),
        (b'{"object": "page", "entry": []}', "object must be whatsapp_business_account"),
        (
            b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {}}]}]}',
            "entry[0].changes[0].value.metadata is missing",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(cloud, body, message):
    response = post(cloud, body)

    assert response.status_code == 400
    assert response.json()["error"] == message


def test_other_fields_are_answered_and_ignored(cloud):
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}}]}],
    }

    response = post(cloud, payload)

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"


def test_items_about_another_number_are_not_stored(cloud):
    payload = load("text_message.json")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"

    assert post(cloud, payload).json() == {"status": "ignored", "accepted": 0, "duplicate": 0, "other_number": 1}
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_fake_graph_api_posts_signed_webhooks_a_live_server_accepts(live_server, org_a, secret_keys):
    from tests.factories.instances import CloudInstanceFactory

    cloud = CloudInstanceFactory(organization=org_a, cloud_phone_number_id="106540352242922")
    url = f"{live_server.url}/api/webhooks/cloud/{cloud.webhook_secret}/"

    status, body = post_webhook(url, load("status_sent.json"), "app-secret-1234")
    refused, _ = post_webhook(url, load("status_sent.json"), "not-the-app-secret")

    assert (status, json.loads(body)["accepted"]) == (200, 1)
    assert refused == 401
