"""Outbound webhooks: outbox rows with the change, signed deliveries, retries with backoff, replay, auto-disable."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from campaigns.models import Recipient
from campaigns.sending import dispatch
from campaigns.services.starting import start_campaign
from campaigns.transitions import advance_recipients
from integrations.models import DeliveryAttempt, OutboundEvent, WebhookDelivery, WebhookSubscription
from integrations.services import webhooks
from tests.factories.campaigns import CampaignFactory, make_evolution_instance, make_flow
from tests.factories.contacts import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribe(org_a, fake_receiver):
    def subscribe(*events, organization=org_a):
        subscription, secret = webhooks.create_subscription(
            organization=organization, url=f"{fake_receiver.url}/hooks/wf", events=list(events)
        )
        webhooks.forget_subscriptions()  # on_commit does not run inside the test's transaction
        fake_receiver.secret = secret
        return subscription

    return subscribe


@pytest.fixture
def sent_execution(org_a, fake_provider):
    instance = make_evolution_instance(org_a, fake_provider.url)
    contacts = [ContactFactory(organization=org_a, name=f"Ana {i}") for i in range(3)]
    campaign = CampaignFactory(
        organization=org_a, instances=[instance], flow=make_flow(org_a, "Oi", wait_for_reply=True)
    )
    execution = start_campaign(campaign=campaign)
    return execution, contacts


def test_sends_enqueue_one_signed_event_per_recipient_and_the_receiver_verifies_them(
    subscribe, sent_execution, fake_receiver
):
    subscribe("recipient.sent", "recipient.delivered")
    execution, contacts = sent_execution

    assert dispatch.run(execution.id) == "done"

    events = OutboundEvent.objects.filter(type="recipient.sent")
    assert events.count() == 3
    assert webhooks.drain() == 3
    assert fake_receiver.verified == [True, True, True]
    bodies = fake_receiver.events()
    assert {b["data"]["phone"] for b in bodies} == {c.phone for c in contacts}
    assert all(b["type"] == "recipient.sent" and b["id"].startswith("evt_") for b in bodies)
    assert bodies[0]["data"]["flow_automation_id"] == execution.campaign_id
    # The event carries the provider's message id (recorded in the same transaction as the move).
    by_phone = {r.phone: r for r in Recipient.objects.filter(execution=execution)}
    assert all(b["data"]["provider_message_id"] == by_phone[b["data"]["phone"]].provider_message_id for b in bodies)
    assert all(b["data"]["provider_message_id"].startswith("3EB0") for b in bodies)
    request = fake_receiver.requests_to(r"^/hooks")[0]
    assert request.header("whatsflow-event-id") == bodies[0]["id"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert DeliveryAttempt.objects.filter(succeeded=True).count() == 3


def test_a_status_applied_twice_is_one_event(subscribe, sent_execution):
    subscribe("recipient.delivered")
    execution, _contacts = sent_execution
    dispatch.run(execution.id)
    recipient = Recipient.objects.filter(execution=execution).first()
    at = timezone.now()

    advance_recipients(Recipient.objects.filter(id=recipient.id), "delivered", at=at)
    advance_recipients(Recipient.objects.filter(id=recipient.id), "delivered", at=at)

    [event] = OutboundEvent.objects.filter(type="recipient.delivered")
    assert event.key == f"recipient.delivered:{recipient.id}"
    assert event.payload["recipient_id"] == recipient.id and event.payload["status"] == "delivered"


def test_nothing_is_enqueued_without_a_subscription_or_for_another_organization(org_b, subscribe, sent_execution):
    subscribe("recipient.sent", organization=org_b)
    execution, _contacts = sent_execution

    dispatch.run(execution.id)

    assert not OutboundEvent.objects.exists()


def test_a_failing_receiver_is_retried_with_backoff_and_logged_per_attempt(subscribe, sent_execution, fake_receiver):
    subscribe("recipient.sent")
    execution, _contacts = sent_execution
    dispatch.run(execution.id)
    fake_receiver.status = 500

    webhooks.drain()

    deliveries = WebhookDelivery.objects.all()
    assert set(deliveries.values_list("status", flat=True)) == {"pending"}
    first = deliveries.first()
    assert first.attempts == 1 and first.last_status_code == 500
    assert 20 <= (first.next_attempt_at - timezone.now()).total_seconds() <= 40
    assert webhooks.drain() == 0  # not due yet

    fake_receiver.status = 200
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert webhooks.drain() == 3
    first.refresh_from_db()
    assert first.status == "delivered" and first.attempts == 2
    assert list(first.attempt_log.values_list("status_code", "succeeded")) == [(500, False), (200, True)]
    # The same event id both times: receivers deduplicate on it.
    ids = [body["id"] for body in fake_receiver.events()]
    assert len(ids) == 6 and len(set(ids)) == 3


def test_the_backoff_doubles_up_to_its_ceiling(settings):
    settings.INTEGRATIONS_WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.INTEGRATIONS_WEBHOOK_RETRY_MAX_SECONDS = 3600
    delays = [webhooks.backoff_seconds(n) for n in (1, 2, 3, 10)]
    assert 24 <= delays[0] <= 36 and 48 <= delays[1] <= 72 and 96 <= delays[2] <= 144
    assert 2880 <= delays[3] <= 4320


def test_a_receiver_down_for_a_day_disables_the_subscription(subscribe, sent_execution, fake_receiver):
    subscription = subscribe("recipient.sent")
    execution, _contacts = sent_execution
    dispatch.run(execution.id)
    fake_receiver.status = 503
    webhooks.drain()

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        webhooks.drain()

    subscription.refresh_from_db()
    assert subscription.is_active is False and subscription.disabled_at is not None
    assert "still failed" in subscription.disabled_reason
    assert WebhookDelivery.objects.filter(status="failed").exists()
    # Nothing more is posted to a disabled subscription.
    posted = len(fake_receiver.events())
    with time_machine.travel(timezone.now() + timedelta(hours=26)):
        webhooks.drain()
    assert len(fake_receiver.events()) == posted


def test_replay_through_the_api_sends_the_same_event_again(alice_client, subscribe, sent_execution, fake_receiver):
    subscribe("recipient.sent")
    execution, _contacts = sent_execution
    dispatch.run(execution.id)
    webhooks.drain()
    delivery = WebhookDelivery.objects.order_by("id").first()

    response = alice_client.post(f"/api/v1/webhook-deliveries/{delivery.id}/replay")
    webhooks.drain()

    assert response.status_code == 202 and response.data["status"] == "pending"
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    ids = [body["id"] for body in fake_receiver.events()]
    assert ids.count(f"evt_{delivery.event_id}") == 2


def test_viewers_cannot_replay_and_others_do_not_see_deliveries(vera_client, charlie_client, subscribe, sent_execution):
    subscribe("recipient.sent")
    execution, _contacts = sent_execution
    dispatch.run(execution.id)
    webhooks.drain()
    delivery = WebhookDelivery.objects.first()

    assert vera_client.post(f"/api/v1/webhook-deliveries/{delivery.id}/replay").status_code == 403
    assert charlie_client.get(f"/api/v1/webhook-deliveries/{delivery.id}").status_code == 404
    assert vera_client.get(f"/api/v1/webhook-deliveries/{delivery.id}").data["attempt_log"][0]["succeeded"]


def test_the_signing_secret_is_shown_once(alice_client, fake_receiver):
    response = alice_client.post(
        "/api/v1/webhook-subscriptions/",
        {"url": f"{fake_receiver.url}/hooks/x", "events": ["recipient.read", "execution.completed"]},
        format="json",
    )

    assert response.status_code == 201, response.content
    secret = response.data["secret"]
    assert secret.startswith("whsec_") and response.data["secret_hint"] == f"…{secret[-4:]}"
    listed = alice_client.get("/api/v1/webhook-subscriptions/")
    assert secret not in listed.content.decode()
    subscription = WebhookSubscription.objects.get(id=response.data["id"])
    assert secret not in subscription.secret_encrypted and subscription.secret == secret


def test_an_unknown_event_type_is_a_400_naming_the_field(alice_client):
    response = alice_client.post(
        "/api/v1/webhook-subscriptions/", {"url": "https://x.example/h", "events": ["recipient.lost"]}, format="json"
    )
    assert response.status_code == 400 and "events" in response.data


def test_execution_and_conversation_completions_are_events(subscribe, org_a, fake_provider, fake_receiver):
    subscribe("execution.completed", "conversation.completed")
    instance = make_evolution_instance(org_a, fake_provider.url)
    ContactFactory(organization=org_a, name="Bia")
    campaign = CampaignFactory(
        organization=org_a, instances=[instance], flow=make_flow(org_a, "Fim", wait_for_reply=False)
    )
    execution = start_campaign(campaign=campaign)

    dispatch.run(execution.id)
    webhooks.drain()

    types = sorted(body["type"] for body in fake_receiver.events())
    assert types == ["conversation.completed", "execution.completed"]
    completed = next(b for b in fake_receiver.events() if b["type"] == "execution.completed")
    assert completed["data"]["execution_id"] == execution.id and completed["data"]["stats"]["completed"] == 1
    assert all(fake_receiver.verified)
