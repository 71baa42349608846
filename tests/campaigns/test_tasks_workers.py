"""The dispatcher's tasks through outages, with real workers, PostgreSQL, Redis and the fake provider.

No sweep runs here (no beat): what brings sending back is the workers' own recovery.
"""

import time
from collections import Counter

import pytest
import redis
from django.db import connection

from campaigns.models import Recipient
from campaigns.services import starting
from tests.factories.campaigns import CampaignFactory, make_evolution_instance
from tests.support.fakes.provider_server import default_answer
from tests.support.workers import Workers, publish_under_test_prefix, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
SEND = r"^/message/sendText/"


@pytest.fixture
def workers(request, settings):
    if not settings.REDIS_URL or "postgres" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("worker tests run on PostgreSQL and Redis")
    publish_under_test_prefix()
    pool = Workers(2, env={"CAMPAIGNS_TASK_BUDGET_SECONDS": "5"})
    request.addfinalizer(pool.stop)
    return pool


def contacts(org, n):
    from contacts.models import Contact

    Contact.objects.bulk_create(
        [Contact(organization=org, phone=f"+5511{9100000 + i:08d}", name=f"Cliente {i}") for i in range(n)]
    )


def sends(server) -> list:
    return server.requests_to(SEND)


def assert_each_sent_once_or_unknown_where_attempted(execution, server):
    per_phone = Counter(r.json["number"] for r in sends(server))
    recipients = list(Recipient.objects.filter(execution=execution))
    assert max(per_phone.values()) == 1, "a recipient was sent twice"
    for recipient in recipients:
        assert recipient.status in ("sent", "completed", "unknown"), recipient.status
        if recipient.status == "unknown":
            assert recipient.attempted_at is not None, "unknown although no request left"
        else:
            assert per_phone[recipient.phone.lstrip("+")] == 1


def finished(execution):
    def check():
        """every recipient to be sent"""
        return not Recipient.objects.filter(execution=execution, status__in=["pending", "sending"]).exists()

    return check


def test_a_worker_that_starts_resumes_an_execution_whose_tasks_were_lost(org_a, fake_provider, workers, monkeypatch):
    contacts(org_a, 30)
    campaign = CampaignFactory(organization=org_a, instances=[make_evolution_instance(org_a, fake_provider.url)])
    monkeypatch.setattr("campaigns.tasks.queue_dispatch", lambda *args, **kwargs: None)  # the broker lost them
    execution = starting.start_campaign(campaign=campaign)

    workers.start()
    wait_for(finished(execution), timeout=60)

    assert_each_sent_once_or_unknown_where_attempted(execution, fake_provider)
    assert len(sends(fake_provider)) == 30


def test_a_dropped_database_connection_is_waited_out_inside_the_task(org_a, fake_provider, workers):
    contacts(org_a, 200)
    fake_provider.respond("POST", SEND, delay=0.03, handler=default_answer)
    campaign = CampaignFactory(organization=org_a, instances=[make_evolution_instance(org_a, fake_provider.url)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        [workers_started] = cursor.fetchone()
    workers.start()
    execution = starting.start_campaign(campaign=campaign)
    wait_for(lambda: len(sends(fake_provider)) >= 30)

    # As a PostgreSQL restart does to the workers' sessions. Only theirs: an older session of this
    # process (a browser test's live server thread) is not part of this test and must outlive it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_start >= %s",
            [workers_started],
        )
    dropped_at, before = time.monotonic(), len(sends(fake_provider))
    wait_for(lambda: len(sends(fake_provider)) >= before + 10, timeout=15)
    resumed_after = time.monotonic() - dropped_at
    wait_for(finished(execution), timeout=90)

    assert_each_sent_once_or_unknown_where_attempted(execution, fake_provider)
    print(f"\nsending resumed {resumed_after:.1f}s after the database connections dropped")
    assert resumed_after < 15, f"sending resumed {resumed_after:.1f}s after the connections dropped"


def test_a_broker_that_restarts_empty_is_reconnected_to_and_sending_resumes(org_a, fake_provider, workers, settings):
    contacts(org_a, 200)
    fake_provider.respond("POST", SEND, delay=0.03, handler=default_answer)
    campaign = CampaignFactory(organization=org_a, instances=[make_evolution_instance(org_a, fake_provider.url)])
    workers.start()
    execution = starting.start_campaign(campaign=campaign)
    wait_for(lambda: len(sends(fake_provider)) >= 30)

    # A Redis restart, for this test's database only (the server is shared): its keys are gone
    # (queued tasks, limiter slots, counters) and every connection to it drops.
    client = redis.Redis.from_url(settings.REDIS_URL)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    client.flushdb()
    me = client.client_id()
    for other in client.client_list():
        if int(other["db"]) == db and int(other["id"]) != me:
            client.client_kill_filter(_id=other["id"])
    dropped_at, before = time.monotonic(), len(sends(fake_provider))
    wait_for(lambda: len(sends(fake_provider)) >= before + 10, timeout=15)
    resumed_after = time.monotonic() - dropped_at
    wait_for(finished(execution), timeout=90)

    assert_each_sent_once_or_unknown_where_attempted(execution, fake_provider)
    print(f"\nsending resumed {resumed_after:.1f}s after the broker restarted")
    assert resumed_after < 15, f"sending resumed {resumed_after:.1f}s after the broker restarted"
