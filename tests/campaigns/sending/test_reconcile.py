"""`unknown` recipients settled with their provider: sent with its id, sent again, or left unknown."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from campaigns.models import CampaignLog, Execution, Recipient
from campaigns.sending import dispatch
from campaigns.sending.reconcile import reconcile_unknown
from campaigns.services import starting
from instances.models import SandboxMessage
from tests.factories.campaigns import CampaignFactory, make_evolution_instance
from tests.factories.contacts import ContactFactory
from tests.factories.instances import WhatsAppInstanceFactory
from tests.support.instances import answer

FIND = r"^/chat/findMessages/"
SEND = r"^/message/sendText/"
# The fixture's newest message (1772463600), and a claim a minute before it.
SENT_AT = datetime.fromtimestamp(1772463600, tz=UTC)


def unknown_recipient(org, instance, *, claimed_at=SENT_AT - timedelta(minutes=1), phone="+5511999999999"):
    ContactFactory(organization=org, phone=phone)
    execution = starting.start_campaign(campaign=CampaignFactory(organization=org, instances=[instance]))
    Execution.objects.filter(id=execution.id).update(status="running")
    Recipient.objects.filter(execution=execution).update(
        status="unknown", claimed_at=claimed_at, attempted_at=claimed_at, error="read timeout"
    )
    return Recipient.objects.get(execution=execution)


def settle():
    return reconcile_unknown(at=timezone.now())


def test_a_message_found_since_the_claim_makes_it_sent_with_its_id(org_a, fake_provider):
    evolution = make_evolution_instance(org_a, fake_provider.url)
    recipient = unknown_recipient(org_a, evolution)
    fake_provider.respond("POST", FIND, json=answer("evolution", "v2_find_messages"))

    assert settle() == {"sent": 1}

    recipient.refresh_from_db()
    assert recipient.status == "sent" and recipient.provider_message_id == "3EB0F1E2D3C4B5A69788"
    assert recipient.instance == evolution and recipient.sent_at == SENT_AT and recipient.reconciled_at
    [asked] = fake_provider.requests_to(FIND)
    assert asked.json["where"]["key"] == {"remoteJid": "5511999999999@s.whatsapp.net", "fromMe": True}
    assert CampaignLog.objects.get(execution=recipient.execution, type="unknown_reconciled").details == {"sent": 1}


def test_nothing_sent_since_the_claim_is_sent_again_once(org_a, fake_provider):
    evolution = make_evolution_instance(org_a, fake_provider.url)
    recipient = unknown_recipient(org_a, evolution, claimed_at=SENT_AT + timedelta(minutes=5))
    fake_provider.respond("POST", FIND, json=answer("evolution", "v2_find_messages"))  # both are older

    assert settle() == {"resend": 1}
    recipient.refresh_from_db()
    assert recipient.status == "pending"
    assert dispatch.run(recipient.execution_id) == "done"
    recipient.refresh_from_db()
    assert recipient.status == "sent" and len(fake_provider.requests_to(SEND)) == 1
    assert settle() == {}, "checked once"


def test_a_provider_that_fails_to_answer_leaves_it_unknown(org_a, fake_provider):
    evolution = make_evolution_instance(org_a, fake_provider.url)
    recipient = unknown_recipient(org_a, evolution)
    fake_provider.respond("POST", FIND, status=500, json={"status": 500, "error": "Internal Server Error"})

    assert settle() == {"unknown": 1}
    recipient.refresh_from_db()
    assert recipient.status == "unknown" and recipient.reconciled_at is not None
    assert fake_provider.requests_to(SEND) == []


def test_too_recent_an_attempt_waits(org_a, fake_provider):
    evolution = make_evolution_instance(org_a, fake_provider.url)
    unknown_recipient(org_a, evolution, claimed_at=timezone.now())
    assert settle() == {} and fake_provider.requests_to(FIND) == []


@pytest.mark.parametrize("sent", [True, False])
def test_the_sandbox_tells_from_its_rows(org_a, sent):
    sandbox = WhatsAppInstanceFactory(organization=org_a, provider="sandbox")
    claimed_at = timezone.now() - timedelta(hours=1)
    recipient = unknown_recipient(org_a, sandbox, claimed_at=claimed_at)
    if sent:
        SandboxMessage.objects.create(
            organization=org_a, instance=sandbox, to_phone=recipient.phone, text="Olá", provider_message_id="SBX1"
        )

    assert settle() == {"sent" if sent else "resend": 1}
    recipient.refresh_from_db()
    assert recipient.status == ("sent" if sent else "pending")
    assert recipient.provider_message_id == ("SBX1" if sent else "")
