"""A claimed batch on its way out: only a recipient whose request may have left can become `unknown`."""

from datetime import timedelta

import pytest
import redis
import time_machine
from django.db import OperationalError
from django.utils import timezone

from campaigns.models import Execution, Recipient
from campaigns.sending import batch, dispatch
from campaigns.services import starting
from tests.factories.campaigns import CampaignFactory, make_evolution_instance
from tests.factories.contacts import ContactFactory

SEND = r"^/message/sendText/"


@pytest.fixture
def evolution(org_a, fake_provider):
    return make_evolution_instance(org_a, fake_provider.url)


@pytest.fixture
def execution(org_a, evolution):
    ContactFactory.create_batch(3, organization=org_a)
    execution = starting.start_campaign(campaign=CampaignFactory(organization=org_a, instances=[evolution]))
    Execution.objects.filter(id=execution.id).update(status="running")
    return execution


def claimed(execution):
    return dispatch.claim(execution_id=execution.id, size=10, at=timezone.now())


def send(execution, recipient, instance, **kwargs):
    return batch.send_one(recipient, campaign=execution.campaign, execution=execution, instance=instance, **kwargs)


def test_a_flow_that_fails_before_any_request_is_retried_not_unknown(execution, evolution, fake_provider):
    def broken(**kwargs):
        raise KeyError("customer_name")

    [recipient, *_] = claimed(execution)
    assert send(execution, recipient, evolution, start=broken) == "retry"

    recipient.refresh_from_db()
    assert recipient.status == "pending" and recipient.attempted_at is None
    assert recipient.retry_count == 1 and "customer_name" in recipient.error
    assert fake_provider.requests_to(SEND) == []


def test_it_fails_for_good_past_the_retries(execution, evolution):
    def broken(**kwargs):
        raise KeyError("customer_name")

    Recipient.objects.filter(execution=execution).update(retry_count=execution.campaign.max_retries)
    [recipient, *_] = claimed(execution)
    assert send(execution, recipient, evolution, start=broken) == "failed"
    recipient.refresh_from_db()
    assert recipient.status == "failed"


@pytest.mark.parametrize(
    "outage", [redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379"), OperationalError("server closed")]
)
def test_an_outage_before_the_request_is_retried_soon_and_counts_no_retry(execution, evolution, fake_provider, outage):
    def down(**kwargs):
        raise outage

    [recipient, *_] = claimed(execution)
    assert send(execution, recipient, evolution, start=down) == "retry"

    recipient.refresh_from_db()
    assert recipient.status == "pending" and recipient.retry_count == 0
    assert recipient.next_attempt_at <= timezone.now() + timedelta(seconds=10)
    assert fake_provider.requests_to(SEND) == []


def test_an_error_after_the_request_left_is_unknown(execution, evolution, fake_provider, monkeypatch):
    def unreadable(instance, response):
        raise ValueError("answer not understood")

    monkeypatch.setattr("instances.providers.evolution._raise_for_answer", unreadable)
    [recipient, *_] = claimed(execution)
    assert send(execution, recipient, evolution) == "unknown"

    recipient.refresh_from_db()
    assert recipient.status == "unknown" and recipient.attempted_at is not None
    assert len(fake_provider.requests_to(SEND)) == 1


@pytest.mark.django_db(transaction=True)  # the provider's thread reads what the mark committed
def test_the_mark_is_written_before_the_request_and_kept_when_sent(execution, evolution, fake_provider):
    marks = []

    def answer(request):
        marks.append(Recipient.objects.filter(execution=execution, attempted_at__isnull=False).count())
        return 201, {"key": {"id": "ABC123", "fromMe": True}, "messageTimestamp": 1700000000}

    fake_provider.respond("POST", SEND, handler=answer)
    [recipient, *_] = claimed(execution)
    assert send(execution, recipient, evolution) == "sent"
    recipient.refresh_from_db()
    assert marks == [1] and recipient.status == "sent" and recipient.attempted_at is not None


def test_a_claim_taken_back_is_never_sent(execution, evolution, fake_provider):
    [recipient, *_] = claimed(execution)
    # Its lease ran out and another dispatcher claimed it again meanwhile.
    Recipient.objects.filter(id=recipient.id).update(claimed_at=timezone.now() + timedelta(seconds=1))

    assert send(execution, recipient, evolution) == "lost"
    assert fake_provider.requests_to(SEND) == []
    recipient.refresh_from_db()
    assert recipient.status == "sending" and recipient.attempted_at is None


def test_a_limiter_outage_gives_the_whole_batch_back(execution, monkeypatch, fake_provider):
    def down(**kwargs):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("campaigns.limits.reserve", down)
    with pytest.raises(redis.ConnectionError):
        dispatch.run(execution.id)

    statuses = set(Recipient.objects.filter(execution=execution).values_list("status", flat=True))
    assert statuses == {"pending"} and fake_provider.requests_to(SEND) == []


def test_expired_leases_return_the_unattempted_and_keep_the_attempted_unknown(execution, evolution, fake_provider):
    first, *others = claimed(execution)  # then the worker "dies"
    Recipient.objects.filter(id=first.id).update(attempted_at=timezone.now())

    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=False):
        result = dispatch.sweep()
        assert dispatch.run(execution.id) == "done"

    assert result["expired"] == 3
    first.refresh_from_db()
    assert first.status == "unknown"
    assert {r.status for r in Recipient.objects.filter(id__in=[r.id for r in others])} == {"sent"}
    assert len(fake_provider.requests_to(SEND)) == 2


def test_the_heartbeat_extends_the_leases_of_the_batch_in_hand(execution, settings):
    batch_in_hand = claimed(execution)
    lease = Recipient.objects.get(id=batch_in_hand[0].id).lease_expires_at

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.CAMPAIGNS_LEASE_SECONDS - 1), tick=False):
        dispatch.Heartbeat(execution.id).beat(batch_in_hand)
        dispatch.sweep()

    leases = set(Recipient.objects.filter(execution=execution).values_list("status", "lease_expires_at"))
    assert len(leases) == 1
    [(status, extended)] = leases
    assert status == "sending" and extended > lease + timedelta(seconds=settings.CAMPAIGNS_LEASE_SECONDS - 2)
