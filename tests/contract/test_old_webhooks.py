"""The webhook payloads the old Alrea handler documents (Baileys' own event shapes), sent as written.

Its `messages.upsert` example carries `data.messages[0]` with `key` and `message`; its
`messages.update` example `data.key.id` with `data.update.status`, a number read by
Baileys' numbering (3 is DELIVERY_ACK), not the handler doc's 1 sent / 2 delivered / 3 read.
"""

import json

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.models import CampaignLog, Recipient
from tests.factories.campaigns import CampaignFactory, ExecutionFactory
from tests.factories.contacts import ContactFactory
from tests.factories.instances import EvolutionInstanceFactory

pytestmark = pytest.mark.django_db

JID = "5511987654321@s.whatsapp.net"
MESSAGE_ID = "BAE594145F4C59B4"


@pytest.fixture
def sent(org_a, settings):
    settings.WEBHOOKS_APPLY_IN_REQUEST = True
    instance = EvolutionInstanceFactory(organization=org_a, instance_name="loja-centro")
    contact = ContactFactory(organization=org_a, phone="+5511987654321")
    campaign = CampaignFactory(organization=org_a, instances=[instance], status="active")
    execution = ExecutionFactory(organization=org_a, campaign=campaign, status="running")
    return Recipient.objects.create(
        execution=execution,
        contact=contact,
        instance=instance,
        phone=contact.phone,
        status=Recipient.Status.SENT,
        provider_message_id=MESSAGE_ID,
        sent_at=timezone.now(),
    )


def post(recipient, event: str, data) -> dict:
    body = {"event": event, "instance": "loja-centro", "data": data}
    url = f"/api/webhooks/evolution/{recipient.instance.webhook_secret}/"
    response = Client().post(url, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def test_11_upsert_with_a_messages_list_opts_out_on_sair(sent):
    data = {
        "messages": [{"key": {"remoteJid": JID, "fromMe": False, "id": "3EB0A1"}, "message": {"conversation": "SAIR"}}]
    }

    assert post(sent, "messages.upsert", data)["status"] == "opted_out"
    sent.refresh_from_db()
    sent.contact.refresh_from_db()
    assert sent.contact.is_opted_out and sent.status == Recipient.Status.OPTED_OUT
    assert CampaignLog.objects.filter(recipient=sent, type=CampaignLog.Type.CONTACT_OPTED_OUT).exists()


def test_11_upsert_with_a_key_without_id_is_a_reply(sent):
    data = {"key": {"remoteJid": JID, "fromMe": False}, "message": {"conversation": "Quero saber mais"}}

    assert post(sent, "messages.upsert", data)["status"] == "replied"
    assert post(sent, "messages.upsert", data)["status"] == "duplicate"  # the same message, redelivered


@pytest.mark.parametrize(("number", "status"), [(2, "sent"), (3, "delivered"), (4, "read"), (5, "read")])
def test_12_update_with_a_nested_numeric_status_reads_baileys_numbering(number, status, sent):
    data = {"key": {"remoteJid": JID, "fromMe": True, "id": MESSAGE_ID}, "update": {"status": number}}

    post(sent, "messages.update", data)

    sent.refresh_from_db()
    assert sent.status == status
