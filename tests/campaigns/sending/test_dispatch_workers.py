"""The dispatcher run by two real Celery worker processes, PostgreSQL, Redis and the fake provider."""

import threading
import time as time_module
from collections import Counter
from datetime import time

import pytest
from django.conf import settings

from campaigns.models import Execution, Recipient
from campaigns.sending import dispatch
from campaigns.services import starting
from tests.factories.campaigns import CampaignFactory, make_evolution_instance
from tests.support import clock
from tests.support.fakes.provider_server import default_answer
from tests.support.workers import Workers, publish_under_test_prefix, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
SEND = r"^/message/sendText/"


@pytest.fixture
def workers(request, settings):
    if not settings.REDIS_URL or "postgres" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("worker tests run on PostgreSQL and Redis")
    settings.CAMPAIGNS_CLOCK = "tests.support.clock.now"
    publish_under_test_prefix()
    pool = Workers(2, env={"CAMPAIGNS_CLOCK": "tests.support.clock.now", "CAMPAIGNS_TASK_BUDGET_SECONDS": "5"})
    request.addfinalizer(pool.stop)
    return pool.start()


def contacts(org, n):
    from contacts.models import Contact

    Contact.objects.bulk_create(
        [Contact(organization=org, phone=f"+5511{9000000 + i:08d}", name=f"Cliente {i}") for i in range(n)]
    )


def per_phone(server) -> Counter:
    return Counter(r.json["number"] for r in server.requests_to(SEND))


def counts(execution) -> Counter:
    return Counter(Recipient.objects.filter(execution=execution).values_list("status", flat=True))


def finished(execution):
    def check():
        """the execution to finish"""
        execution.refresh_from_db()
        return execution.status == "completed"

    return check


def test_every_recipient_of_2000_is_sent_exactly_once(org_a, fake_provider, workers):
    contacts(org_a, 2000)
    campaign = CampaignFactory(organization=org_a, instances=[make_evolution_instance(org_a, fake_provider.url)])
    execution = starting.start_campaign(campaign=campaign)

    wait_for(finished(execution), timeout=150)

    sent = per_phone(fake_provider)
    assert len(sent) == 2000 and set(sent.values()) == {1}
    assert counts(execution) == {"sent": 2000}
    ids = Recipient.objects.filter(execution=execution).values_list("provider_message_id", flat=True)
    assert len(set(ids)) == 2000


def test_a_worker_killed_mid_execution_loses_nothing_and_sends_nothing_twice(org_a, fake_provider, workers):
    contacts(org_a, 300)
    stalled = threading.Event()

    def answer(request):
        # While stalled, every send hangs at the provider, so each worker (one send at a
        # time) is surely mid-send when the test kills one of them.
        if stalled.is_set():
            time_module.sleep(2)
        return default_answer(request)

    fake_provider.respond("POST", SEND, delay=0.02, handler=answer)
    campaign = CampaignFactory(organization=org_a, instances=[make_evolution_instance(org_a, fake_provider.url)])
    execution = starting.start_campaign(campaign=campaign)
    wait_for(lambda: len(fake_provider.requests_to(SEND)) >= 60)
    stalled.set()
    before = len(fake_provider.requests_to(SEND))
    wait_for(lambda: len(fake_provider.requests_to(SEND)) >= before + 2)

    killed_at = clock.now()
    workers.kill(0)
    stalled.clear()

    def only_the_dead_workers_claims_remain():
        """the surviving worker to send everything else"""
        recipients = Recipient.objects.filter(execution=execution)
        return (
            not recipients.filter(status="pending").exists()
            and not recipients.filter(status="sending", claimed_at__gte=killed_at).exists()
        )

    wait_for(only_the_dead_workers_claims_remain, timeout=120)
    # A batch the survivor claimed just before the kill takes at most 20 x 20 ms to finish.
    wait_for(lambda: Recipient.objects.filter(execution=execution, status="sending").count() <= 20, timeout=5)
    time_module.sleep(1)
    in_flight = Recipient.objects.filter(execution=execution, status="sending")
    attempted = set(in_flight.filter(attempted_at__isnull=False).values_list("phone", flat=True))
    assert in_flight.filter(attempted_at__isnull=True).exists(), "the dead worker's batch had unattempted claims"
    clock.move(settings.CAMPAIGNS_LEASE_SECONDS + 1)
    dispatch.sweep()  # the unattempted go back to pending and the execution, stalled, is queued again

    wait_for(finished(execution), timeout=60)
    status = counts(execution)
    sent = per_phone(fake_provider)
    assert set(status) <= {"sent", "unknown"} and status["sent"] + status["unknown"] == 300
    # Only the send the worker was in the middle of (and any not recorded yet) may have left.
    assert 1 <= status["unknown"] <= 3 and len(attempted) == status["unknown"]
    assert max(sent.values()) == 1, "a recipient was sent twice"
    for recipient in Recipient.objects.filter(execution=execution, status="sent"):
        assert sent[recipient.phone.lstrip("+")] == 1
    assert all(sent[phone.lstrip("+")] <= 1 for phone in attempted)


def test_the_rate_limit_holds_across_workers(org_a, fake_provider, workers):
    contacts(org_a, 41)
    campaign = CampaignFactory(
        organization=org_a, rate_limit_per_hour=36000, instances=[make_evolution_instance(org_a, fake_provider.url)]
    )
    execution = starting.start_campaign(campaign=campaign)

    wait_for(finished(execution), timeout=60)

    times = sorted(r.received_at for r in fake_provider.requests_to(SEND))
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert len(times) == 41
    assert 9.5 <= rate <= 10.5, f"{rate:.2f} messages/s for a limit of 10/s"


def test_the_window_holds_sends_and_an_opt_out_meanwhile_stops_that_send(org_a, fake_provider, workers):
    contacts(org_a, 20)
    campaign = CampaignFactory(
        organization=org_a,
        instances=[make_evolution_instance(org_a, fake_provider.url)],
        time_zone="America/Sao_Paulo",
        execution_window_start=time(9),
        execution_window_end=time(18),
    )
    clock.set_local("America/Sao_Paulo", 21)
    execution = starting.start_campaign(campaign=campaign)
    wait_for(lambda: Execution.objects.filter(id=execution.id, waiting_until__isnull=False).exists())
    leaver = Recipient.objects.filter(execution=execution).order_by("-id").first().contact
    leaver.mark_opted_out(reason="SAIR", source="keyword:SAIR")
    assert fake_provider.requests_to(SEND) == []

    clock.set_local("America/Sao_Paulo", 9, 1)
    dispatch.sweep()
    wait_for(finished(execution))

    sent = per_phone(fake_provider)
    assert len(sent) == 19 and leaver.phone.lstrip("+") not in sent
    assert counts(execution) == {"sent": 19, "opted_out": 1}


def test_a_5xx_is_retried_and_a_400_fails_once(org_a, fake_provider, workers):
    contacts(org_a, 10)
    flaky, refused = "551109000001", "551109000002"
    answered = Counter()

    def answer(request):
        number = request.json["number"]
        answered[number] += 1
        if number == flaky and answered[number] == 1:
            return 503, {"error": "Service Unavailable"}
        if number == refused:
            return 400, {"status": 400, "error": "Bad Request", "response": {"message": ["invalid"]}}
        return default_answer(request)

    fake_provider.respond("POST", SEND, handler=answer)
    campaign = CampaignFactory(organization=org_a, instances=[make_evolution_instance(org_a, fake_provider.url)])
    execution = starting.start_campaign(campaign=campaign)
    wait_for(lambda: counts(execution)["sent"] == 8 and counts(execution)["failed"] == 1)
    assert Recipient.objects.get(execution=execution, phone=f"+{flaky}").status == "pending"

    clock.move(600)
    dispatch.sweep()
    wait_for(finished(execution))

    assert counts(execution) == {"sent": 9, "failed": 1}
    assert answered[flaky] == 2 and answered[refused] == 1
    assert Recipient.objects.get(execution=execution, phone=f"+{flaky}").retry_count == 1
