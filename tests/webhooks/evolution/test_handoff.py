"""Someone answers from the number's phone: the bot steps aside for 12 hours, or until resumed."""

from datetime import timedelta

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.utils import timezone

from flows import inbound, tasks
from flows.choice_design import normalized, write_choice
from flows.handoff import resume
from flows.models import Handoff, MessageHistory, ReplyTimer, SystemSetting, WaitTimeout
from flows.starting import start_conversation
from integrations.models import OutboundEvent
from integrations.services.webhooks import create_subscription, forget_subscriptions
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.factories.instances import EvolutionInstanceFactory

from .conftest import API_KEY, INSTANCE_NAME, load, post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    monkeypatch.setattr(tasks.process_burst, "apply_async", lambda *args, **kwargs: None)


@pytest.fixture
def running(org_a, contact, fake_provider, apply_in_request, settings):
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    SystemSetting.objects.create(organization=org_a, key="MESSAGE_COOLDOWN", value="0", value_type="number")
    create_subscription(
        organization=org_a, url="https://crm.example.com/hooks", events=["conversation.handoff", "conversation.resumed"]
    )
    forget_subscriptions()
    instance = EvolutionInstanceFactory(
        organization=org_a, instance_name=INSTANCE_NAME, api_key=API_KEY, base_url=fake_provider.url
    )
    flow = flow_for(org_a, is_default=True)
    menu = SubflowFactory(flow=flow, name="Menu", order_index=0)
    branch = SubflowFactory(flow=flow, name="Ramo B", order_index=1)
    FlowMessageFactory(subflow=branch, text="Você escolheu B")
    prompt = FlowMessageFactory(subflow=menu, text="Escolha:", order_index=0)
    write_choice(prompt, normalized({"options": [{"label": "A"}, {"label": "B", "goto": branch}]}))
    WaitTimeout.objects.create(message=prompt, after_minutes=60)
    start_conversation(contact=contact, instance=instance, flow=flow)
    return instance


def bot_texts(fake_provider):
    return [r.json["text"] for r in fake_provider.requests_to(r"^/message/sendText/")]


def say(instance, contact, text):
    inbound.handle_inbound_message(instance=instance, contact=contact, text=text)
    return inbound.process_burst(instance_id=instance.id, contact_id=contact.id)


def test_a_message_from_the_phone_pauses_the_bot_for_12_hours(running, contact, fake_provider):
    instance = running
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        response = post(instance, load("v2/messages_upsert_from_me.json"))
    assert response.json()["status"] == "handed_off"
    handoff = Handoff.objects.get(contact=contact)
    assert handoff.reason == "phone" and handoff.until == start + timedelta(hours=12)
    assert ReplyTimer.objects.get(conversation__contact=contact).status == "cancelled"
    assert [e.type for e in OutboundEvent.objects.all()] == ["conversation.handoff"]
    sent = len(bot_texts(fake_provider))

    with time_machine.travel(start + timedelta(hours=1), tick=False):
        assert say(instance, contact, "2") == "handed_off"
    assert len(bot_texts(fake_provider)) == sent  # no bot reply while a person has the contact
    assert MessageHistory.objects.filter(direction="in", text="2", processed_at__isnull=False).exists()

    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        say(instance, contact, "2")
    assert bot_texts(fake_provider)[-1] == "Você escolheu B"
    assert sorted(e.type for e in OutboundEvent.objects.all()) == ["conversation.handoff", "conversation.resumed"]


def test_an_explicit_resume_gives_the_contact_back_to_the_bot(running, contact, fake_provider):
    instance = running
    post(instance, load("v2/messages_upsert_from_me.json"))
    post(instance, load("v2/messages_upsert_from_me.json"))  # a redelivery opens nothing new
    handoff = Handoff.objects.get(contact=contact)
    assert resume(handoff=handoff) and not resume(handoff=handoff)
    say(instance, contact, "B")
    assert bot_texts(fake_provider)[-1] == "Você escolheu B"
    assert [e.type for e in OutboundEvent.objects.order_by("id")] == ["conversation.handoff", "conversation.resumed"]


def test_the_bots_own_echo_is_not_a_person(running, contact, fake_provider):
    instance = running
    ours = MessageHistory.objects.filter(direction="out").exclude(provider_message_id="").first()
    payload = load("v2/messages_upsert_from_me.json")
    payload["data"]["key"]["id"] = ours.provider_message_id
    assert post(instance, payload).json()["status"] != "handed_off"
    assert not Handoff.objects.exists()
