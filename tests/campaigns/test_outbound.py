"""The outbox rows a status move writes: one per recipient that moved, for its organization's subscriptions only."""

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Recipient
from campaigns.transitions import advance_recipients
from integrations.models import OutboundEvent, WebhookSubscription
from integrations.services import webhooks
from tests.factories.campaigns import CampaignFactory, ExecutionFactory
from tests.factories.contacts import ContactFactory
from tests.factories.instances import EvolutionInstanceFactory

pytestmark = pytest.mark.django_db

OUTBOX = OutboundEvent._meta.db_table


@pytest.fixture(autouse=True)
def _keys(settings):
    settings.INTEGRATIONS_ENCRYPTION_KEYS = ["d2hhdHNmbG93LXRlc3Qtb25seS1pbnRlZ3JhdGlvbnM="]
    webhooks.forget_subscriptions()


def sent_recipients(organization, n=3):
    instance = EvolutionInstanceFactory(organization=organization)
    campaign = CampaignFactory(organization=organization, instances=[instance], status="active")
    execution = ExecutionFactory(organization=organization, campaign=campaign, status="running")
    return [
        Recipient.objects.create(
            execution=execution,
            contact=(contact := ContactFactory(organization=organization)),
            instance=instance,
            phone=contact.phone,
            status=Recipient.Status.SENT,
            provider_message_id=f"3EB0{i:04d}",
            sent_at=timezone.now(),
        )
        for i in range(n)
    ]


def subscribe(organization, *events):
    subscription, _secret = webhooks.create_subscription(
        organization=organization, url="https://crm.example.com/hooks", events=list(events)
    )
    return subscription


def outbox_statements(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if OUTBOX in q["sql"]]


def test_another_organizations_subscription_costs_no_outbox_statement(org_a, org_b):
    recipients = sent_recipients(org_a)
    subscribe(org_b, "recipient.delivered")

    with CaptureQueriesContext(connection) as queries:
        moved = advance_recipients(
            Recipient.objects.filter(id__in=[r.id for r in recipients]), "delivered", organization_id=org_a.id
        )

    assert moved == 3
    assert outbox_statements(queries) == []
    assert not OutboundEvent.objects.exists()


def test_a_subscribed_organization_gets_one_exact_event_per_recipient_that_moved(org_a, org_b):
    recipients = sent_recipients(org_a)
    subscribe(org_a, "recipient.delivered")
    subscribe(org_b, "recipient.delivered")
    Recipient.objects.filter(id=recipients[2].id).update(status=Recipient.Status.READ)  # already past delivered
    at = timezone.now()
    queryset = Recipient.objects.filter(id__in=[r.id for r in recipients])

    with CaptureQueriesContext(connection) as queries:
        assert advance_recipients(queryset, "delivered", at=at, organization_id=org_a.id) == 2
    advance_recipients(queryset, "delivered", at=at, organization_id=org_a.id)  # applied twice: no new event

    assert len(outbox_statements(queries)) == 1  # one set-wise insert for the batch
    assert len([q for q in queries.captured_queries if "campaigns_recipient" in q["sql"]]) == 1  # the same statement
    assert Recipient.objects.get(id=recipients[2].id).delivered_at == at  # already read: its delivered_at filled
    assert not any(q["sql"].startswith("SAVEPOINT") for q in queries.captured_queries)
    events = {e.key: e for e in OutboundEvent.objects.all()}
    assert set(events) == {f"recipient.delivered:{recipients[0].id}", f"recipient.delivered:{recipients[1].id}"}
    event = events[f"recipient.delivered:{recipients[0].id}"]
    assert event.organization_id == org_a.id and event.type == "recipient.delivered"
    assert event.payload == {
        "recipient_id": recipients[0].id,
        "execution_id": recipients[0].execution_id,
        "flow_automation_id": recipients[0].execution.campaign_id,
        "contact_id": recipients[0].contact_id,
        "phone": recipients[0].phone,
        "status": "delivered",
        "provider_message_id": "3EB00000",
        "error": "",
        "occurred_at": event.payload["occurred_at"],
    }
    assert event.occurred_at == at and datetime.fromisoformat(event.payload["occurred_at"]) == at


def test_without_the_organization_named_the_events_still_go_to_the_subscribed_one_only(org_a, org_b):
    mine, theirs = sent_recipients(org_a, n=1), sent_recipients(org_b, n=1)
    subscribe(org_b, "recipient.delivered")

    advance_recipients(Recipient.objects.filter(id__in=[mine[0].id, theirs[0].id]), "delivered")

    [event] = OutboundEvent.objects.all()
    assert event.organization_id == org_b.id and event.payload["recipient_id"] == theirs[0].id


def test_a_subscription_deleted_or_disabled_is_forgotten_at_once(org_a):
    recipients = sent_recipients(org_a)
    subscription = subscribe(org_a, "recipient.delivered", "recipient.read")
    assert webhooks.organization_subscribes(org_a.id, "recipient.delivered")

    WebhookSubscription.objects.filter(id=subscription.id).delete()  # as the API and the admin delete
    advance_recipients(Recipient.objects.filter(id=recipients[0].id), "delivered", organization_id=org_a.id)
    assert not OutboundEvent.objects.exists()

    subscription = subscribe(org_a, "recipient.read")
    assert not webhooks.organization_subscribes(org_a.id, "recipient.delivered")
    assert webhooks.organization_subscribes(org_a.id, "recipient.read")
    webhooks.update_subscription(subscription=subscription, is_active=False)
    assert not webhooks.organization_subscribes(org_a.id, "recipient.read")


def test_a_queryset_that_can_match_nothing_moves_nothing(org_a):
    subscribe(org_a, "recipient.delivered")

    assert advance_recipients(Recipient.objects.filter(id__in=[]), "delivered", organization_id=org_a.id) == 0
    assert not OutboundEvent.objects.exists()
