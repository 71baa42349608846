"""The ticker with real processes: two beats and workers at once, downtime, overlap with a running execution."""

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from campaigns.models import Execution, Schedule, ScheduleRun
from campaigns.schedules import services, ticker
from campaigns.tasks import run_due_schedules
from tests.factories.campaigns import CampaignFactory, make_evolution_instance
from tests.factories.contacts import ContactFactory
from tests.support import clock
from tests.support.fakes.provider_server import default_answer
from tests.support.workers import ROOT, Workers, database_url, publish_under_test_prefix, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
SEND = r"^/message/sendText/"
SP = ZoneInfo("America/Sao_Paulo")
ENV = {"CAMPAIGNS_CLOCK": "tests.support.clock.now", "CAMPAIGNS_TASK_BUDGET_SECONDS": "5"}


@pytest.fixture
def workers(request, settings):
    if not settings.REDIS_URL or "postgres" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("worker tests run on PostgreSQL and Redis")
    settings.CAMPAIGNS_CLOCK = "tests.support.clock.now"
    publish_under_test_prefix()
    pool = Workers(2, env=ENV)
    request.addfinalizer(pool.stop)
    return pool.start()


class Beats:
    """Real `celery beat` processes on django-celery-beat's DatabaseScheduler."""

    def __init__(self, count: int):
        self.count, self.processes = count, []

    def start(self):
        env = {
            **os.environ,
            **ENV,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
            "SECRET_KEY": "test-only",
            "DEBUG": "0",
            "CONN_MAX_AGE": "0",
        }
        for _ in range(self.count):
            command = [sys.executable, "-m", "celery", "-A", "config", "beat", "--pidfile=", "--loglevel", "WARNING"]
            command += ["--scheduler", "django_celery_beat.schedulers:DatabaseScheduler", "--max-interval", "1"]
            self.processes.append(
                subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
            )
        return self

    def stop(self):
        for process in self.processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def test_two_beats_and_two_workers_start_each_occurrence_once(org_a, workers, request):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    contacts = [ContactFactory(organization=org_a) for _ in range(40)]
    campaigns = [
        CampaignFactory(organization=org_a, audience_type="custom", audience_config={"contact_ids": [contact.id]})
        for contact in contacts
    ]
    at = clock.now()
    for i, campaign in enumerate(campaigns):
        # Daily, first due a few seconds from now (the ticks then find it due, or done).
        local = (at + timedelta(seconds=3 + i % 5)).astimezone(SP).replace(microsecond=0)
        body = {
            "recurrence_type": "daily",
            "start_date": local.date().isoformat(),
            "start_time": local.time().isoformat(),
        }
        services.create_schedule(campaign=campaign, data=body)
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="test: ticker", task="campaigns.tasks.run_due_schedules", interval=every_second)
    beats = Beats(2).start()
    request.addfinalizer(beats.stop)
    # And explicit copies of the ticker racing the beats' ones.
    for _ in range(4):
        run_due_schedules.delay()

    def all_started():
        """every schedule's first occurrence to be started"""
        return ScheduleRun.objects.filter(status="started").count() >= 40

    wait_for(all_started, timeout=120)
    for _ in range(4):
        run_due_schedules.delay()
    wait_for(lambda: Schedule.objects.filter(next_scheduled_at__lte=clock.now()).count() == 0, timeout=30)
    time.sleep(3)  # more beat ticks come and find nothing due

    per_campaign = Counter(Execution.objects.values_list("campaign_id", flat=True))
    assert len(per_campaign) == 40 and set(per_campaign.values()) == {1}
    assert ScheduleRun.objects.count() == 40
    assert all(e.type == "scheduled" for e in Execution.objects.all())


def test_downtime_catches_up_inside_the_window_and_records_the_rest_missed(org_a, workers):
    ContactFactory(organization=org_a)
    campaign = CampaignFactory(organization=org_a)
    clock.set_local("America/Sao_Paulo", 8, 0)
    start = clock.now().astimezone(SP).date()
    body = {
        "recurrence_type": "daily",
        "start_date": start.isoformat(),
        "start_time": "09:00:00",
        "execution_window_start": "09:00:00",
        "execution_window_end": "18:00:00",
        "catchup_window": 3600,
    }
    schedule = services.create_schedule(campaign=campaign, data=body)
    clock.move(3 * 86400 + 3600 + 1800)  # down for three days: now 09:30 on the fourth
    run_due_schedules.delay()

    wait_for(lambda: ScheduleRun.objects.filter(schedule=schedule).count() == 4)
    statuses = list(
        ScheduleRun.objects.filter(schedule=schedule).order_by("scheduled_for").values_list("status", flat=True)
    )
    assert statuses == ["missed", "missed", "missed", "started"]
    wait_for(lambda: Execution.objects.filter(campaign=campaign, status="completed").count() == 1)
    assert Execution.objects.filter(campaign=campaign).count() == 1


@pytest.mark.parametrize(("policy", "executions"), [("skip", 1), ("buffer_one", 2)])
def test_overlap_with_a_long_running_execution(org_a, fake_provider, workers, policy, executions):
    gate = threading.Event()

    def answer(request):
        gate.wait(60)  # the first execution stays running until the test lets its sends through
        return default_answer(request)

    fake_provider.respond("POST", SEND, handler=answer)
    for _ in range(3):
        ContactFactory(organization=org_a)
    campaign = CampaignFactory(organization=org_a, instances=[make_evolution_instance(org_a, fake_provider.url)])
    clock.set_local("America/Sao_Paulo", 8, 59)
    start = clock.now().astimezone(SP).date()
    body = {"recurrence_type": "daily", "start_date": start.isoformat(), "start_time": "09:00:00"}
    body |= {"overlap_policy": policy, "catchup_window": 7200}
    schedule = services.create_schedule(campaign=campaign, data=body)

    clock.move(65)
    assert ticker.tick()["started"] == 1
    first = Execution.objects.get(campaign=campaign)
    wait_for(lambda: len(fake_provider.requests_to(SEND)) >= 1)  # a worker is inside a send
    clock.move(86400)
    outcome = ticker.tick()
    assert outcome[{"skip": "skipped", "buffer_one": "buffered"}[policy]] == 1
    first.refresh_from_db()
    assert first.status == "running"

    gate.set()
    wait_for(lambda: Execution.objects.filter(id=first.id, status="completed").exists())
    ticker.tick()
    wait_for(lambda: Execution.objects.filter(campaign=campaign, status="completed").count() == executions)
    ticker.tick()

    runs = list(ScheduleRun.objects.filter(schedule=schedule).order_by("scheduled_for").values_list("status", "reason"))
    assert runs == [
        ("started", ""),
        ("skipped" if policy == "skip" else "started", "overlap" if policy == "skip" else ""),
    ]
    sends = Counter(r.json["number"] for r in fake_provider.requests_to(SEND))
    assert len(sends) == 3 and set(sends.values()) == {executions}
    assert Execution.objects.filter(campaign=campaign).count() == executions
