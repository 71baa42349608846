"""A campaign on the fake Evolution server, followed by Evolution's webhooks through the real endpoint.

The campaign is started through the API and dispatched in this process (the dispatcher's
behaviour under real workers is tested in tests/campaigns); what is under test here is what
the webhooks do to it: statuses by the ids the server handed out, a disconnect that pauses
it mid-execution and a reconnect that resumes it, opt-outs and a reply the flow engine
answers. Events take the production path: stored by the request, applied by the drainer
and the connection settle (Celery runs them in this process).
"""

import copy
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import CampaignLog, Execution, Recipient
from campaigns.sending import batch, dispatch
from contacts.models import Contact
from flows.models import Conversation, MessageHistory
from instances.models import WhatsAppInstance
from instances.services import flush_counters
from tests.factories.campaigns import CampaignFactory, make_evolution_instance
from tests.factories.contacts import ContactFactory
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.support.fakes.provider_server import evolution_send_answer
from webhooks.models import WebhookEvent

from .conftest import load, post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_waits", "eager_celery")]

SEND = r"^/message/sendText/"
NAMES = ["Ana Lima", "Bruno Dias", "Carla Reis", "Davi Rocha", "Elisa Melo", "Fábio Luz"]


@pytest.fixture
def evolution(org_a, fake_provider):
    return make_evolution_instance(org_a, fake_provider.url, name="loja-centro")


@pytest.fixture
def handed_out(fake_provider):
    """(number, WhatsApp message id, text) of every send, in order: the ids the webhooks must use."""
    sends = []

    def answer(request):
        status, body = evolution_send_answer(request, "loja-centro")
        sends.append((request.json["number"], body["key"]["id"], request.json["text"]))
        return status, body

    fake_provider.respond("POST", SEND, handler=answer)
    return sends


@pytest.fixture
def campaign(org_a, evolution):
    flow = flow_for(org_a)
    start = SubflowFactory(flow=flow, name="Oferta", order_index=0)
    FlowMessageFactory(
        subflow=start, order_index=0, text="Olá {{customer_name}}, seu desconto é {{discount}}.", wait_for_response=True
    )
    FlowMessageFactory(subflow=start, order_index=1, text="Anotado, {{customer_name}}. Até logo!")
    for name in NAMES:
        ContactFactory(organization=org_a, name=name)
    return CampaignFactory(organization=org_a, flow=flow, template=flow.template, instances=[evolution])


def _envelope(payload: dict, instance: WhatsAppInstance) -> dict:
    payload = copy.deepcopy(payload)
    payload["instance"] = instance.instance_name
    payload["apikey"] = instance.api_key
    return payload


def delivered(instance, recipient) -> dict:
    """v2: the WhatsApp id at data.keyId, Evolution's own row id at data.messageId."""
    payload = _envelope(load("v2/messages_update_delivered.json"), instance)
    payload["data"].update(
        keyId=recipient.provider_message_id,
        messageId=f"cm{recipient.id:023d}",
        remoteJid=f"{recipient.phone.lstrip('+')}@s.whatsapp.net",
    )
    return payload


def read(instance, recipient) -> dict:
    """v1: the key fields flat in data, the id at data.id."""
    payload = _envelope(load("v1/messages_update_read.json"), instance)
    payload["data"].update(
        id=recipient.provider_message_id,
        remoteJid=f"{recipient.phone.lstrip('+')}@s.whatsapp.net",
        datetime=int(time.time() * 1000),
    )
    return payload


def reply(instance, contact, text: str, message_id: str) -> dict:
    payload = _envelope(load("v2/messages_upsert_text.json"), instance)
    payload["data"]["key"].update(remoteJid=f"{contact.phone.lstrip('+')}@s.whatsapp.net", id=message_id)
    payload["data"].update(pushName=contact.name, messageTimestamp=int(time.time()))
    payload["data"]["message"] = {"conversation": text}
    return payload


def connection(instance, state: str, reason: int, date_time: str) -> dict:
    name = "connection_update_open" if state == "open" else "connection_update_close_logged_out"
    payload = _envelope(load(f"v2/{name}.json"), instance)
    payload["data"].update(instance=instance.instance_name, state=state, statusReason=reason)
    payload["date_time"] = date_time
    return payload


@pytest.fixture
def deliver(evolution, django_capture_on_commit_callbacks):
    """POST like Evolution does; the tasks the request queues on commit then run (eagerly)."""

    def deliver(payload) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = post(evolution, payload)
        assert response.status_code == 200, response.content
        return response.json()["status"]

    return deliver


def test_a_campaign_followed_by_its_webhooks(
    org_a, alice_client, evolution, campaign, handed_out, deliver, settings, django_capture_on_commit_callbacks
):
    settings.CAMPAIGNS_BATCH_SIZE = 3

    # 1. Started through the API; the dispatcher is queued on commit.
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = alice_client.post(f"/api/v1/flow-automations/{campaign.id}/start", {}, format="json")
    assert response.status_code == 202, response.content
    assert len(queued) == 1
    execution = Execution.objects.get(id=response.json()["id"])
    recipients = Recipient.objects.filter(execution=execution)
    assert recipients.count() == 6

    # 2. The dispatcher sends a first batch; the number is logged out right after the third send.
    def start_then_log_out(**kwargs):
        started = batch.default_start(**kwargs)
        if len(handed_out) == 3:
            close = connection(evolution, "close", 401, "2025-03-14T10:31:15.907Z")
            assert deliver(close) == "accepted"
        return started

    assert dispatch.run(execution.id, start=start_then_log_out) == "stopped"

    first = list(recipients.filter(status=Recipient.Status.SENT).order_by("id"))
    assert len(first) == 3
    assert {(r.phone.lstrip("+"), r.provider_message_id) for r in first} == {(n, i) for n, i, _ in handed_out}
    assert recipients.filter(status=Recipient.Status.PENDING).count() == 3
    execution.refresh_from_db()
    assert execution.status == Execution.Status.PAUSED
    assert execution.pause_reason == Execution.PauseReason.INSTANCE_DISCONNECTED and "401" in execution.pause_detail
    critical = CampaignLog.objects.filter(execution=execution, severity=CampaignLog.Severity.CRITICAL)
    assert set(critical.values_list("type", flat=True)) == {"instance_disconnected", "execution_paused"}
    evolution.refresh_from_db()
    assert (evolution.connection_state, evolution.needs_qr_login) == ("close", True)
    assert "401" in evolution.connection_reason

    # 3. While paused: the first batch is delivered, and a contact still waiting for the
    #    campaign writes "sair." (an earlier chat); her pending recipient is never sent.
    for recipient in first:
        assert deliver(delivered(evolution, recipient)) == "accepted"
    leaving = recipients.filter(status=Recipient.Status.PENDING).order_by("id").first()
    assert deliver(reply(evolution, leaving.contact, "sair.", "3A5C7E9B1D3F5A7C0001")) == "accepted"
    leaving.refresh_from_db()
    assert leaving.status == Recipient.Status.OPTED_OUT

    # 4. A new QR login: the number is open again and the execution resumes and finishes.
    assert deliver(connection(evolution, "open", 200, "2025-03-14T10:40:02.440Z")) == "accepted"

    execution.refresh_from_db()
    assert execution.status == Execution.Status.COMPLETED
    assert len(handed_out) == 5
    assert leaving.phone.lstrip("+") not in {number for number, _, _ in handed_out}
    evolution.refresh_from_db()
    assert (evolution.connection_state, evolution.needs_qr_login) == ("open", False)

    # 5. Every message sent is delivered and read, by the ids the server handed out;
    #    Evolution delivering one of them again changes nothing.
    sent = list(recipients.exclude(id=leaving.id).order_by("id"))
    assert {r.provider_message_id for r in sent} == {i for _, i, _ in handed_out}
    for recipient in sent:
        if recipient not in first:
            assert deliver(delivered(evolution, recipient)) == "accepted"
        assert deliver(read(evolution, recipient)) == "accepted"
    assert deliver(read(evolution, sent[0])) == "duplicate"
    assert set(recipients.exclude(id=leaving.id).values_list("status", flat=True)) == {"read"}

    # 6. Replies: "SAIR" opts out; "não quero sair do grupo" is a sentence, so the flow
    #    engine answers it and the conversation ends.
    staying, quitting = sent[0], sent[1]
    assert deliver(reply(evolution, quitting.contact, "SAIR", "3A5C7E9B1D3F5A7C0002")) == "accepted"
    assert deliver(reply(evolution, staying.contact, "não quero sair do grupo", "3A5C7E9B1D3F5A7C0003")) == "accepted"

    assert handed_out[-1][0] == staying.phone.lstrip("+")
    assert handed_out[-1][2] == f"Anotado, {staying.contact.name}. Até logo!"
    assert len(handed_out) == 6

    # End state: recipients.
    statuses = dict(recipients.values_list("contact__name", "status"))
    others = set(NAMES) - {staying.contact.name, quitting.contact.name, leaving.contact.name}
    assert statuses == {
        staying.contact.name: Recipient.Status.COMPLETED,
        quitting.contact.name: Recipient.Status.OPTED_OUT,  # its SAIR answered the message it was sent
        leaving.contact.name: Recipient.Status.OPTED_OUT,
        **{name: Recipient.Status.READ for name in others},
    }
    assert not recipients.exclude(id=leaving.id).filter(delivered_at__isnull=True).exists()
    assert not recipients.exclude(id=leaving.id).filter(read_at__isnull=True).exists()
    leaving.refresh_from_db()
    assert leaving.provider_message_id == "" and leaving.sent_at is None

    # Contacts.
    for recipient in (quitting, leaving):
        contact = Contact.objects.get(id=recipient.contact_id)
        assert contact.is_opted_out and contact.opt_out_source == "keyword:SAIR"
    staying_contact = Contact.objects.get(id=staying.contact_id)
    assert not staying_contact.is_opted_out
    assert staying_contact.total_messages_received == 1 and staying_contact.last_interaction_at is not None
    assert not Contact.objects.filter(name__in=others, opted_out_at__isnull=False).exists()

    # The flow engine got the sentence: recorded inbound, and the conversation finished.
    conversation = Conversation.objects.get(id=staying.conversation_id)
    assert conversation.status == Conversation.Status.COMPLETED
    inbound = MessageHistory.objects.filter(conversation=conversation, direction=MessageHistory.Direction.INBOUND)
    assert list(inbound.values_list("text", flat=True)) == ["não quero sair do grupo"]

    # Execution and logs.
    execution.refresh_from_db()
    assert execution.status == Execution.Status.COMPLETED and execution.completed_at is not None
    logs = CampaignLog.objects.filter(execution=execution)
    counts = {t: logs.filter(type=t).count() for t in set(logs.values_list("type", flat=True))}
    assert counts["instance_disconnected"] == 1 and counts["execution_paused"] == 1
    assert counts["instance_reconnected"] == 1 and counts["execution_resumed"] == 1
    assert counts["message_delivered"] == 5 and counts["message_read"] == 5
    opted_out_logs = logs.filter(type="contact_opted_out")
    assert sorted(opted_out_logs.values_list("recipient_id", flat=True)) == sorted([leaving.id, quitting.id])
    assert set(opted_out_logs.values_list("severity", flat=True)) == {"warning"}

    # Every event stored once and applied.
    events = WebhookEvent.objects.filter(instance=evolution)
    assert events.count() == 5 + 5 + 3 + 2
    assert set(events.values_list("status", flat=True)) == {WebhookEvent.Status.APPLIED}

    # The instance's counters, from the batches the webhooks recorded.
    flush_counters()
    evolution.refresh_from_db()
    assert (evolution.sent_today, evolution.delivered_today, evolution.read_today) == (6, 5, 5)
    assert (evolution.failed_today, evolution.replies_today, evolution.disconnects_today) == (0, 3, 1)
    assert evolution.health_score == 80
    assert timezone.now() - evolution.last_connected_at < timedelta(minutes=1)
