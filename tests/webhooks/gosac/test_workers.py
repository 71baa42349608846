"""The GOSAC path with real Celery workers: bursts, delays and duplicate tasks across processes."""

import time

import pytest

from flows.models import Conversation, MessageHistory, ScheduledSend, SystemSetting
from flows.tasks import send_scheduled
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.support.workers import Workers, publish_under_test_prefix, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers():
    publish_under_test_prefix()
    pool = Workers(2).start()
    yield pool
    pool.stop()


def test_a_burst_and_a_delay_go_out_once_with_two_workers(org_a, gosac, fake_provider, workers):
    SystemSetting.objects.create(organization=org_a, key="DEBOUNCE_TIME", value="400", value_type="number")
    SystemSetting.objects.create(organization=org_a, key="MESSAGE_COOLDOWN", value="0", value_type="number")
    flow = flow_for(org_a, is_default=True)
    main = SubflowFactory(flow=flow, order_index=0)
    FlowMessageFactory(subflow=main, order_index=0, text="Olá!")
    FlowMessageFactory(subflow=main, order_index=1, text="Menu", wait_for_response=True)
    prices = SubflowFactory(flow=flow, order_index=1, trigger_keywords=["preço"])
    FlowMessageFactory(subflow=prices, order_index=0, text="R$ 49")
    FlowMessageFactory(subflow=prices, order_index=1, text="Mais algo?", delay_seconds=1)

    def texts():
        return [r.json["message"] for r in fake_provider.requests_to(r"^/send-message$")]

    for part in ("Oi", "tudo bem?", "quero saber"):
        assert gosac.text(part).json()["status"] == "accepted"

    def greeted():
        """the greeting and the menu, once"""
        return texts() == ["Olá!", "Menu"]

    wait_for(greeted, timeout=60)
    assert MessageHistory.objects.filter(direction="in", processed_at__isnull=False).count() == 3

    gosac.text("qual o preço?")

    def scheduled():
        """the delayed message is stored"""
        return ScheduledSend.objects.filter(text="Mais algo?").exists()

    wait_for(scheduled, timeout=30)
    delayed = ScheduledSend.objects.get(text="Mais algo?")
    for _ in range(5):
        send_scheduled.apply_async((delayed.id,), countdown=1)

    def completed():
        """the conversation completed"""
        return Conversation.objects.filter(status="completed").exists()

    wait_for(completed, timeout=30)
    wait_for(lambda: len(texts()) >= 4, timeout=10)
    # Real processes: give the duplicate tasks (due 1 s after queueing) time to run and find nothing to claim.
    time.sleep(2)
    assert texts() == ["Olá!", "Menu", "R$ 49", "Mais algo?"]
    assert Conversation.objects.count() == 1
