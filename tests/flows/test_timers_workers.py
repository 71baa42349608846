"""A no-reply timer survives a worker's death: it is a row, fired once by whichever worker sweeps next."""

from datetime import timedelta

import pytest
from django.utils import timezone

from flows.choice_design import normalized, write_choice
from flows.models import ReplyTimer, SystemSetting, WaitTimeout
from flows.starting import start_conversation
from flows.tasks import fire_due_timers
from instances.models import SandboxMessage
from tests.factories.contacts import ContactFactory
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.factories.instances import WhatsAppInstanceFactory
from tests.support.workers import Workers, publish_under_test_prefix, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_timer_armed_before_a_worker_dies_fires_once_after_a_new_one_starts(org_a):
    publish_under_test_prefix()
    SystemSetting.objects.create(organization=org_a, key="MESSAGE_COOLDOWN", value="0", value_type="number")
    flow = flow_for(org_a, is_default=True)
    menu = SubflowFactory(flow=flow, name="Menu", order_index=0)
    silent = SubflowFactory(flow=flow, name="Sem resposta", order_index=1)
    FlowMessageFactory(subflow=silent, text="Ainda está aí?")
    prompt = FlowMessageFactory(subflow=menu, text="Escolha:", order_index=0)
    write_choice(prompt, normalized({"options": [{"label": "Sim"}, {"label": "Não"}]}))
    WaitTimeout.objects.create(message=prompt, after_minutes=5, subflow=silent)
    instance = WhatsAppInstanceFactory(organization=org_a, connection_state="open")
    contact = ContactFactory(organization=org_a, phone="+5511988887777")

    first = Workers(1).start()
    try:
        start_conversation(contact=contact, instance=instance, flow=flow)
    finally:
        first.kill(0)  # the worker dies while the timer runs
    # The five minutes pass while no worker runs.
    ReplyTimer.objects.filter(conversation__contact=contact).update(due_at=timezone.now() - timedelta(seconds=1))

    second = Workers(2).start()
    try:
        for _ in range(3):
            fire_due_timers.delay()

        def answered():
            """the timeout branch's message"""
            return SandboxMessage.objects.filter(instance=instance, text="Ainda está aí?").exists()

        wait_for(answered, timeout=60)
    finally:
        second.stop()
    assert SandboxMessage.objects.filter(instance=instance, text="Ainda está aí?").count() == 1
    assert ReplyTimer.objects.get(conversation__contact=contact).status == "fired"
