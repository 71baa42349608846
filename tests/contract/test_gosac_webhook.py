"""§5 of the inherited contract: GOSAC's `messages:created` with its ticket fields."""

import pytest
import time_machine

from flows.models import Conversation, SystemSetting
from instances.models import WhatsAppInstance

pytestmark = pytest.mark.django_db


@pytest.fixture
def gosac_number(org_a, contract_rows, fake_provider):
    for key in ("DEBOUNCE_TIME", "MESSAGE_COOLDOWN"):
        SystemSetting.objects.create(organization=org_a, key=key, value="0", value_type="number")
    return WhatsAppInstance.objects.create(
        organization=org_a,
        name="GOSAC",
        provider=WhatsAppInstance.Provider.GOSAC,
        base_url=fake_provider.url,
        api_key="gosac-token",
        integration_key="integration",
        connection_state="open",
    )


def gosac_body(**ticket):
    return {
        "type": "messages:created",
        "data": {
            "body": "Oi",
            "mediaType": "chat",
            "mediaUrl": None,
            "mediaPath": None,
            "fromMe": False,
            "fromGroup": False,
            "ticketId": 7001,
            "contactId": 24914,
            "contact": {"name": "Maria Souza", "number": "5511988887777"},
            "ticket": {"status": "open", "userId": None, **ticket},
        },
    }


@pytest.mark.usefixtures("eager")
def test_5_an_open_ticket_is_answered_a_closed_or_taken_one_is_not(anon_client, gosac_number, fake_provider):
    url = f"/api/webhooks/gosac/{gosac_number.webhook_secret}/"

    with time_machine.travel("2026-03-10 10:00:00 -03:00", tick=False):
        answered = anon_client.post(url, gosac_body(), format="json")
        again = anon_client.post(url, gosac_body(), format="json")  # a redelivery: no id in the body
    with time_machine.travel("2026-03-10 10:05:00 -03:00", tick=False):
        closed_body, taken_body = gosac_body(status="closed"), gosac_body(userId=12)
        closed_body["data"]["body"], taken_body["data"]["body"] = "Alô?", "Quero um atendente"
        closed = anon_client.post(url, closed_body, format="json")
        taken = anon_client.post(url, taken_body, format="json")

    assert answered.json() == {"status": "accepted", "reason": "queued"}
    assert again.json() == {"status": "ignored", "reason": "duplicate"}
    assert closed.json() == {"status": "ignored", "reason": "ticket_closed"}
    assert taken.json() == {"status": "ignored", "reason": "ticket_taken_by_a_person"}
    sends = fake_provider.requests_to(r"^/send-message$")
    assert [r.json["contact_id"] for r in sends] == ["24914"]
    conversation = Conversation.objects.get()
    assert (conversation.external_ticket_status, conversation.external_ticket_user_id) == ("open", "12")
