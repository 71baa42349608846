"""A status from Evolution enqueues the outbound webhook's event with the change: no call out on the request."""

import pytest

from integrations.models import OutboundEvent, WebhookDelivery
from integrations.services import webhooks
from webhooks import tasks as webhook_tasks
from webhooks.models import WebhookEvent

from .conftest import load, post

pytestmark = pytest.mark.django_db

DELIVERED = "v2/messages_update_delivered.json"


@pytest.fixture
def receiver(org_a, settings):
    settings.INTEGRATIONS_ENCRYPTION_KEYS = ["d2hhdHNmbG93LXRlc3Qtb25seS1pbnRlZ3JhdGlvbnM="]
    from tests.support.fakes.partners import FakeReceiver

    with FakeReceiver() as server:
        _subscription, server.secret = webhooks.create_subscription(
            organization=org_a, url=f"{server.url}/hooks/crm", events=["recipient.delivered"]
        )
        webhooks.forget_subscriptions()
        yield server


def test_applied_in_the_request_it_writes_the_event_and_posts_nothing(instance, recipient, receiver, apply_in_request):
    response = post(instance, load(DELIVERED))

    assert response.status_code == 200 and response.json()["status"] == "delivered"
    [event] = OutboundEvent.objects.all()
    assert event.type == "recipient.delivered" and event.payload["recipient_id"] == recipient.id
    assert receiver.requests == []

    webhooks.drain()
    [body] = receiver.events()
    assert body["data"]["provider_message_id"] == recipient.provider_message_id
    assert receiver.verified == [True]
    assert WebhookDelivery.objects.get().status == "delivered"


def test_stored_by_the_request_the_event_comes_when_the_drainer_applies_it(instance, recipient, receiver):
    response = post(instance, load(DELIVERED))

    assert response.status_code == 200
    assert not OutboundEvent.objects.exists() and receiver.requests == []
    webhook_tasks.apply_webhook_event(WebhookEvent.objects.get().id)
    assert OutboundEvent.objects.filter(type="recipient.delivered").count() == 1
