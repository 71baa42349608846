"""What a provider's status report means for a recipient: forward only, logged once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import CampaignLog, Recipient
from campaigns.tracking import NotRecordedYet, apply_message_status, record_opt_out, record_reply
from tests.factories.campaigns import CampaignFactory, ExecutionFactory
from tests.factories.contacts import ContactFactory
from tests.factories.instances import EvolutionInstanceFactory

MESSAGE_ID = "BAE594145F4C59B4"


@pytest.fixture
def instance(org_a):
    return EvolutionInstanceFactory(organization=org_a)


@pytest.fixture
def contact(org_a):
    return ContactFactory(organization=org_a, phone="+5511987654321")


@pytest.fixture
def recipient(org_a, instance, contact):
    campaign = CampaignFactory(organization=org_a, instances=[instance], status="active")
    execution = ExecutionFactory(organization=org_a, campaign=campaign, status="running")
    return Recipient.objects.create(
        execution=execution,
        contact=contact,
        instance=instance,
        phone=contact.phone,
        status=Recipient.Status.SENT,
        provider_message_id=MESSAGE_ID,
        claimed_at=timezone.now(),
        sent_at=timezone.now(),
    )


def report(instance, status: str) -> str:
    return apply_message_status(instance=instance, message_id=MESSAGE_ID, status=status, at=timezone.now())


def test_a_late_delivered_after_read_only_fills_delivered_at(instance, recipient):
    assert report(instance, "read") == "read"
    assert report(instance, "delivered") == "unchanged"

    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.READ
    assert recipient.delivered_at is not None and recipient.read_at is not None
    assert list(CampaignLog.objects.filter(recipient=recipient).values_list("type", flat=True)) == ["message_read"]


def test_a_server_ack_resolves_a_recipient_whose_send_outcome_was_unknown(instance, recipient):
    Recipient.objects.filter(id=recipient.id).update(status=Recipient.Status.UNKNOWN, sent_at=None)

    assert report(instance, "sent") == "sent"

    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.SENT and recipient.sent_at is not None


def test_an_unknown_id_waits_while_a_send_is_being_recorded_and_is_not_campaign_past_the_grace(instance, recipient):
    Recipient.objects.filter(id=recipient.id).update(status=Recipient.Status.SENDING, provider_message_id="")

    with pytest.raises(NotRecordedYet):
        report(instance, "delivered")
    old = timezone.now() - timedelta(seconds=61)
    assert apply_message_status(instance=instance, message_id=MESSAGE_ID, status="delivered", at=old) == "not_campaign"


def test_a_reply_marks_the_last_message_sent_to_the_contact_once(instance, contact, recipient):
    assert record_reply(instance=instance, contact=contact, at=timezone.now())
    assert not record_reply(instance=instance, contact=contact, at=timezone.now())

    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.REPLIED


def test_the_first_opt_out_wins_and_stops_pending_recipients(org_a, instance, contact, recipient):
    other = ExecutionFactory(
        organization=org_a, campaign=CampaignFactory(organization=org_a, instances=[instance]), status="running"
    )
    pending = Recipient.objects.create(execution=other, contact=contact, instance=instance, phone=contact.phone)

    assert record_opt_out(instance=instance, contact=contact, keyword="SAIR", message_id="m1") == "opted_out"
    assert record_opt_out(instance=instance, contact=contact, keyword="SAIR", message_id="m2") == "already_opted_out"

    pending.refresh_from_db()
    recipient.refresh_from_db()
    assert pending.status == Recipient.Status.OPTED_OUT
    # The message it answered, already sent, ends opted out too; one log for each.
    assert recipient.status == Recipient.Status.OPTED_OUT and recipient.sent_at is not None
    logged = CampaignLog.objects.filter(type=CampaignLog.Type.CONTACT_OPTED_OUT)
    assert sorted(logged.values_list("recipient_id", flat=True)) == sorted([recipient.id, pending.id])


@pytest.mark.parametrize("status", ["sent", "delivered", "read", "replied"])
def test_an_opt_out_reply_to_a_sent_message_ends_its_recipient_opted_out(status, instance, contact, recipient):
    Recipient.objects.filter(id=recipient.id).update(status=status)

    assert record_opt_out(instance=instance, contact=contact, keyword="SAIR", message_id="m1") == "opted_out"
    apply_message_status(instance=instance, message_id=MESSAGE_ID, status="read", at=timezone.now())

    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.OPTED_OUT
    assert recipient.read_at is not None  # a read reported afterwards still happened
    log = CampaignLog.objects.get(recipient=recipient, type=CampaignLog.Type.CONTACT_OPTED_OUT)
    assert log.details == {"keyword": "SAIR", "provider_message_id": "m1"}
