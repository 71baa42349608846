"""The stored events as a queue: failures kept and replayed, the sweep, reconnect storms, deferred statuses."""

import copy
from datetime import timedelta

import time_machine
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import Recipient
from webhooks.evolution import queue, routing
from webhooks.evolution.events import MessageStatus
from webhooks.models import WebhookEvent

from .conftest import MESSAGE_ID, load, post


def test_a_failed_application_is_kept_and_replayed(instance, recipient, apply_in_request, monkeypatch):
    real = routing.APPLIERS[MessageStatus]

    def database_hiccup(**kwargs):
        raise ConnectionError("server closed the connection unexpectedly")

    monkeypatch.setitem(routing.APPLIERS, MessageStatus, database_hiccup)
    response = post(instance, load("v2/messages_update_delivered.json"))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == (WebhookEvent.Status.FAILED, 1)
    assert "server closed the connection" in event.error
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.SENT

    monkeypatch.setitem(routing.APPLIERS, MessageStatus, real)
    call_command("replay_webhooks")

    event.refresh_from_db()
    recipient.refresh_from_db()
    assert (event.status, event.result, event.error, event.attempts) == ("applied", "delivered", "", 2)
    assert recipient.status == Recipient.Status.DELIVERED


def test_the_sweep_applies_events_whose_task_was_lost(instance, recipient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        post(instance, load("v2/messages_update_read.json"))
    event = WebhookEvent.objects.get()

    assert queue.retry_unapplied() == {}
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert queue.retry_unapplied() == {"read": 1}

    event.refresh_from_db()
    recipient.refresh_from_db()
    assert event.status == WebhookEvent.Status.APPLIED and recipient.status == Recipient.Status.READ


def _connection(state: str, second: int, reason: int = 200) -> dict:
    payload = copy.deepcopy(load("v2/connection_update_open.json"))
    payload["data"] = {"instance": payload["instance"], "state": state, "statusReason": reason}
    payload["date_time"] = f"2025-03-14T10:{second // 60:02d}:{second % 60:02d}.000Z"
    return payload


def test_a_reconnect_storm_is_settled_once_to_the_newest_state(
    instance, recipient, django_capture_on_commit_callbacks, settings
):
    # The storm fits in one settle window however slow the machine (300 posts can take over 5 s).
    settings.WEBHOOKS_CONNECTION_SETTLE_SECONDS = 120
    states = ["close", "connecting", "open"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answers = [post(instance, _connection(states[i % 3], i, 428)).json()["status"] for i in range(300)]

    assert set(answers) == {"accepted"}
    assert len(callbacks) == 1, "one settle task for the whole storm"
    assert queue.settle_connection(instance_id=instance.id) == "open"
    instance.refresh_from_db()
    assert instance.connection_state == "open"
    events = WebhookEvent.objects.filter(instance=instance)
    assert events.filter(status="applied").count() == 1
    assert events.filter(status="superseded").count() == 299


def test_an_older_connection_event_arriving_late_changes_nothing(instance, apply_in_request):
    assert post(instance, _connection("close", 50, 401)).json()["status"] == "needs_qr_login"
    assert post(instance, _connection("open", 10)).json()["status"] == "superseded"

    instance.refresh_from_db()
    assert instance.connection_state == "close"


def test_a_status_that_comes_before_its_send_is_recorded_is_applied_once_it_is(instance, recipient, apply_in_request):
    # The dispatcher has the provider's answer but records its batch's ids a moment later.
    Recipient.objects.filter(id=recipient.id).update(status=Recipient.Status.SENDING, provider_message_id="")

    response = post(instance, load("v2/messages_update_delivered.json"))

    assert response.json()["status"] == "deferred"
    event = WebhookEvent.objects.get()
    assert (event.status, event.result) == (WebhookEvent.Status.FAILED, "deferred")
    assert MESSAGE_ID in event.error
    Recipient.objects.filter(id=recipient.id).update(
        status=Recipient.Status.SENT, provider_message_id=MESSAGE_ID, sent_at=timezone.now()
    )

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        assert queue.retry_unapplied() == {"delivered": 1}

    recipient.refresh_from_db()
    event.refresh_from_db()
    assert recipient.status == Recipient.Status.DELIVERED
    assert (event.status, event.result, event.error) == (WebhookEvent.Status.APPLIED, "delivered", "")


def test_past_the_grace_an_unmatched_status_is_not_campaign_even_while_sends_are_in_flight(
    instance, recipient, apply_in_request
):
    Recipient.objects.filter(id=recipient.id).update(status=Recipient.Status.SENDING)
    payload = load("v2/messages_update_delivered.json")
    payload["data"]["keyId"] = "3EB0F00D00000000000000"  # a conversation's message, say

    assert post(instance, payload).json()["status"] == "deferred"
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        assert queue.retry_unapplied() == {"not_campaign": 1}

    event = WebhookEvent.objects.get()
    assert (event.status, event.result, event.attempts) == (WebhookEvent.Status.APPLIED, "not_campaign", 2)
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.SENDING
