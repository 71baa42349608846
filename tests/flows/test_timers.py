"""No-reply timers: armed in the database when a conversation waits, fired by the sweep once due."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from flows import inbound, tasks
from flows.choice_design import normalized, write_choice
from flows.models import Conversation, ReplyTimer, SystemSetting, WaitTimeout
from flows.starting import start_conversation
from flows.timers import fire_due_timers, fire_timer
from instances.models import SandboxMessage
from tests.factories.contacts import ContactFactory
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.factories.instances import WhatsAppInstanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    monkeypatch.setattr(tasks.process_burst, "apply_async", lambda *args, **kwargs: None)


@pytest.fixture
def waiting(org_a):
    """A contact at a choice step that times out after two hours into "Sem resposta"."""
    SystemSetting.objects.create(organization=org_a, key="MESSAGE_COOLDOWN", value="0", value_type="number")
    flow = flow_for(org_a, is_default=True)
    menu = SubflowFactory(flow=flow, name="Menu", order_index=0)
    silent = SubflowFactory(flow=flow, name="Sem resposta", order_index=1)
    FlowMessageFactory(subflow=silent, text="Ainda está aí? Vou encerrar por aqui.")
    prompt = FlowMessageFactory(subflow=menu, text="Escolha:", order_index=0)
    FlowMessageFactory(subflow=menu, text="Obrigado!", order_index=5)
    write_choice(prompt, normalized({"options": [{"label": "Sim"}, {"label": "Não"}]}))
    WaitTimeout.objects.create(message=prompt, after_minutes=120, subflow=silent)
    instance = WhatsAppInstanceFactory(organization=org_a, connection_state="open")
    contact = ContactFactory(organization=org_a, phone="+5511988887777")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        start_conversation(contact=contact, instance=instance, flow=flow)
    return instance, contact, start


def sent(instance):
    return list(SandboxMessage.objects.filter(instance=instance).order_by("id").values_list("text", flat=True))


def test_a_wait_arms_a_timer_in_the_database(waiting):
    instance, contact, start = waiting
    timer = ReplyTimer.objects.get(conversation__contact=contact)
    assert timer.status == "pending" and timer.due_at == start + timedelta(minutes=120)


def test_no_reply_in_time_takes_the_timeout_branch(waiting):
    instance, contact, start = waiting
    with time_machine.travel(start + timedelta(minutes=119), tick=False):
        assert fire_due_timers() == 0
    with time_machine.travel(start + timedelta(minutes=121), tick=False):
        assert tasks.fire_due_timers() == 1
        assert fire_due_timers() == 0  # fired once
    assert sent(instance)[-1] == "Ainda está aí? Vou encerrar por aqui."
    assert ReplyTimer.objects.get(conversation__contact=contact).status == "fired"
    assert Conversation.objects.get(contact=contact).status == "completed"


def test_a_reply_in_time_cancels_the_timer(waiting):
    instance, contact, start = waiting
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        inbound.handle_inbound_message(instance=instance, contact=contact, text="1")
        inbound.process_burst(instance_id=instance.id, contact_id=contact.id)
    with time_machine.travel(start + timedelta(minutes=121), tick=False):
        assert fire_due_timers() == 0
    assert sent(instance)[-1] == "Obrigado!"
    assert ReplyTimer.objects.get(conversation__contact=contact).status == "cancelled"


def test_an_invalid_reply_keeps_the_timer_running(waiting):
    instance, contact, start = waiting
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        inbound.handle_inbound_message(instance=instance, contact=contact, text="talvez")
        inbound.process_burst(instance_id=instance.id, contact_id=contact.id)
    with time_machine.travel(start + timedelta(minutes=121), tick=False):
        assert fire_due_timers() == 1
    assert sent(instance)[-1] == "Ainda está aí? Vou encerrar por aqui."


def test_a_timer_whose_conversation_moved_is_cancelled_not_fired(waiting):
    instance, contact, start = waiting
    timer = ReplyTimer.objects.get(conversation__contact=contact)
    Conversation.objects.filter(id=timer.conversation_id).update(status="ended")
    with time_machine.travel(start + timedelta(minutes=121), tick=False):
        assert fire_timer(timer_id=timer.id) == "stale"
    timer.refresh_from_db()
    assert timer.status == "cancelled"
