"""Applying events: order, failures kept and replayed, reconnect storms, opt-out, the sandbox sink."""

import copy
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import CampaignLog, Recipient
from instances.providers.sandbox import status_payload
from tests.factories.campaigns import CampaignFactory, ExecutionFactory
from tests.factories.instances import SandboxMessageFactory, WhatsAppInstanceFactory
from webhooks import apply as apply_module
from webhooks import intake
from webhooks.models import OptOutSettings, WebhookEvent

from .conftest import MESSAGE_ID, load, post


def test_a_late_delivered_after_read_only_fills_delivered_at(instance, recipient, apply_in_request):
    post(instance, load("v2/messages_update_read.json"))
    post(instance, load("v2/messages_update_delivered.json"))

    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.READ
    assert recipient.delivered_at is not None and recipient.read_at is not None
    assert list(CampaignLog.objects.filter(recipient=recipient).values_list("type", flat=True)) == ["message_read"]


def test_a_server_ack_resolves_a_recipient_whose_send_outcome_was_unknown(instance, recipient, apply_in_request):
    Recipient.objects.filter(id=recipient.id).update(status=Recipient.Status.UNKNOWN, sent_at=None)

    response = post(instance, load("v2/messages_update_server_ack.json"))

    assert response.json()["status"] == "sent"
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.SENT and recipient.sent_at is not None


def test_a_failed_application_is_kept_and_replayed(instance, recipient, apply_in_request, monkeypatch):
    real = apply_module.APPLIERS[apply_module.MessageStatus]

    def database_hiccup(**kwargs):
        raise ConnectionError("server closed the connection unexpectedly")

    monkeypatch.setitem(apply_module.APPLIERS, apply_module.MessageStatus, database_hiccup)
    response = post(instance, load("v2/messages_update_delivered.json"))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == (WebhookEvent.Status.FAILED, 1)
    assert "server closed the connection" in event.error
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.SENT

    monkeypatch.setitem(apply_module.APPLIERS, apply_module.MessageStatus, real)
    call_command("replay_webhooks")

    event.refresh_from_db()
    recipient.refresh_from_db()
    assert (event.status, event.result, event.error, event.attempts) == ("applied", "delivered", "", 2)
    assert recipient.status == Recipient.Status.DELIVERED


def test_the_sweep_applies_events_whose_task_was_lost(instance, recipient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        post(instance, load("v2/messages_update_read.json"))
    event = WebhookEvent.objects.get()

    assert intake.retry_unapplied() == {}
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert intake.retry_unapplied() == {"read": 1}

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
    assert intake.settle_connection(instance_id=instance.id) == "open"
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


def test_opting_out_stops_the_contacts_pending_recipients_everywhere(
    org_a, instance, contact, recipient, apply_in_request
):
    other = ExecutionFactory(
        organization=org_a, campaign=CampaignFactory(organization=org_a, instances=[instance]), status="running"
    )
    pending = Recipient.objects.create(execution=other, contact=contact, instance=instance, phone=contact.phone)

    response = post(instance, load("v2/messages_upsert_opt_out.json"))

    assert response.json()["status"] == "opted_out"
    contact.refresh_from_db()
    pending.refresh_from_db()
    assert contact.is_opted_out and contact.opt_out_source == "keyword:SAIR"
    assert pending.status == Recipient.Status.OPTED_OUT
    log = CampaignLog.objects.get(type=CampaignLog.Type.CONTACT_OPTED_OUT)
    assert (log.execution_id, log.severity) == (other.id, "warning")


def test_an_organizations_own_keywords_replace_the_defaults(org_a, instance, contact, recipient, apply_in_request):
    OptOutSettings.objects.create(organization=org_a, opt_out_keywords=["CHEGA"])

    assert post(instance, load("v2/messages_upsert_opt_out.json")).json()["status"] == "replied"
    payload = load("v2/messages_upsert_text.json")
    payload["data"]["message"] = {"conversation": "Chega!"}
    assert post(instance, payload).json()["status"] == "opted_out"


def test_the_opt_out_confirmation_is_sent_when_configured(
    org_a,
    instance,
    contact,
    recipient,
    apply_in_request,
    fake_provider,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from webhooks.tasks import send_opt_out_confirmation

    instance.base_url = fake_provider.url
    instance.save(update_fields=["base_url"])
    OptOutSettings.objects.create(organization=org_a, confirmation_text="Pronto, você não receberá mais mensagens.")
    # Celery runs the task in this process (plumbing only).
    monkeypatch.setattr(send_opt_out_confirmation, "delay", lambda *args: send_opt_out_confirmation.apply(args))

    with django_capture_on_commit_callbacks(execute=True):
        post(instance, load("v2/messages_upsert_opt_out.json"))
        post(instance, load("v2/messages_upsert_opt_out_punctuated.json"))

    sends = [r for r in fake_provider.requests if "/message/sendText/" in r.path]
    assert len(sends) == 1
    assert sends[0].json["text"] == "Pronto, você não receberá mais mensagens."


def test_the_sandbox_sink_applies_its_simulated_webhooks(org_a, contact):
    sandbox = WhatsAppInstanceFactory(organization=org_a)
    message = SandboxMessageFactory(instance=sandbox, organization=org_a, to_phone=contact.phone)
    execution = ExecutionFactory(organization=org_a, campaign=CampaignFactory(organization=org_a, instances=[sandbox]))
    recipient = Recipient.objects.create(
        execution=execution,
        contact=contact,
        instance=sandbox,
        phone=contact.phone,
        status="sent",
        provider_message_id=message.provider_message_id,
    )

    outcome = intake.accept_sandbox_payload(status_payload(message, status="READ", at=timezone.now()))

    assert outcome.status == "read"
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.READ


@pytest.mark.parametrize("jid", ["551187654321@s.whatsapp.net", "5511987654321:12@s.whatsapp.net"])
def test_whatsapp_ids_without_the_ninth_digit_or_with_a_device_find_the_contact(jid):
    from webhooks.parsers.evolution import phone_from_jid

    assert phone_from_jid(jid) == "+5511987654321"


def test_statuses_never_use_evolutions_internal_message_id(instance, recipient, apply_in_request):
    payload = load("v2/messages_update_delivered.json")
    payload["data"]["messageId"] = MESSAGE_ID
    payload["data"]["keyId"] = "3EB0000000000000000000"

    assert post(instance, payload).json()["status"] == "not_campaign"


def test_a_burst_wakes_one_drainer_that_applies_every_stored_event(
    instance, recipient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for name in ["v2/messages_update_delivered.json", "v2/messages_update_read.json", "v2/messages_delete.json"]:
            assert post(instance, load(name)).json()["status"] == "accepted"

    assert len(callbacks) == 1
    assert intake.drain() == 3
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"applied"}
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.READ


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
        assert intake.retry_unapplied() == {"delivered": 1}

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
        assert intake.retry_unapplied() == {"not_campaign": 1}

    event = WebhookEvent.objects.get()
    assert (event.status, event.result, event.attempts) == (WebhookEvent.Status.APPLIED, "not_campaign", 2)
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.SENDING
