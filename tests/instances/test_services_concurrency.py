"""Webhooks arrive in parallel: counters lose nothing and a state change is reported once."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from instances.models import WhatsAppInstance
from instances.services import flush_counters, record_message_delivered, record_message_sent, set_connection_state
from tests.factories.instances import EvolutionInstanceFactory

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(count, work):
    start = threading.Barrier(count)

    def run(i):
        start.wait()
        try:
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_parallel_records_and_flushes_lose_nothing(org_a):
    instance = EvolutionInstanceFactory(organization=org_a)

    def work(i):
        for _ in range(25):
            record_message_sent(instance_id=instance.id)
            record_message_delivered(instance_id=instance.id)
            if i % 2:
                flush_counters()

    in_threads(8, work)
    flush_counters()

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert (row.sent_today, row.delivered_today) == (200, 200)


def test_parallel_closes_change_the_state_once(org_a, connection_events):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state="open", health_score=100)

    changed = in_threads(
        6,
        lambda i: set_connection_state(
            instance=WhatsAppInstance.objects.get(id=instance.id), state="close", reason=f"webhook {i}"
        ),
    )

    assert changed.count(True) == 1
    assert len(connection_events) == 1
    row = WhatsAppInstance.objects.get(id=instance.id)
    assert (row.health_score, row.disconnects_today) == (80, 1)
