"""Outbound webhooks delivered by a real Celery worker: an enqueue's commit wakes the drainer."""

import pytest
from django.conf import settings

from integrations.models import WebhookDelivery
from integrations.services import webhooks
from tests.support.workers import Workers, publish_under_test_prefix, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers(request, encryption_keys):
    if not settings.REDIS_URL or "postgres" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("worker tests run on PostgreSQL and Redis")
    publish_under_test_prefix()
    pool = Workers(1, env={"INTEGRATIONS_ENCRYPTION_KEYS": encryption_keys[0]})
    request.addfinalizer(pool.stop)
    return pool.start()


def test_a_committed_event_is_delivered_by_a_worker_signed(org_a, fake_receiver, workers):
    _subscription, fake_receiver.secret = webhooks.create_subscription(
        organization=org_a, url=f"{fake_receiver.url}/hooks/a", events=["conversation.completed"]
    )
    webhooks.forget_subscriptions()

    assert webhooks.enqueue_event(
        organization_id=org_a.id, type="conversation.completed", key="conversation.completed:1", payload={"x": 1}
    )

    def delivered():
        """the delivery is recorded as delivered"""
        return WebhookDelivery.objects.filter(status="delivered").exists()

    wait_for(delivered, timeout=60)
    [body] = fake_receiver.events()
    assert body["type"] == "conversation.completed" and body["data"] == {"x": 1}
    assert fake_receiver.verified == [True]
