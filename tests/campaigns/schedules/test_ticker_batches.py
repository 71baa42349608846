"""The ticker's one start path: every outcome a start can have, in a batch of many or of one.

One organization's schedules are ticked as one batch, an identical organization's as
batches of one (what a single start and the fallback of a failed batch are); both give
each outcome a start can have, and write the same rows.
"""

import threading
from collections import Counter

import pytest
import time_machine
from django.db import connection

from campaigns import audience
from campaigns.models import Campaign, CampaignLog, Execution, Recipient, Schedule, ScheduleRun
from campaigns.schedules import services, ticker
from tests.factories.campaigns import CampaignFactory, ExecutionFactory, make_flow
from tests.factories.contacts import ContactFactory
from tests.support.schedules import utc

pytestmark = pytest.mark.django_db

DAILY = {"recurrence_type": "daily", "start_date": "2025-11-01", "start_time": "09:00:00"}


def scenario(org) -> None:
    """Nine schedules due at 2025-11-03 12:00Z, one batch, every outcome a start can have."""
    ana = ContactFactory(organization=org, name="Ana", phone="5511990000001", custom_fields={"city": "SP"})
    ContactFactory(organization=org, name="", phone="5511990000002")

    def campaign(label, **fields):
        return CampaignFactory(organization=org, description=label, max_concurrent_executions=5, **fields)

    with time_machine.travel("2025-11-01T11:00:00Z", tick=False) as clock:
        late = campaign("downtime")
        services.create_schedule(campaign=late, data=DAILY | {"catchup_window": 3600})
        clock.move_to("2025-11-03T11:00:00Z")
        plain = campaign(
            "plain",
            flow=make_flow(org, "Olá {{who}} de {{city}}"),
            variable_mapping={"who": "{{contact.name}}", "city": "{{contact.custom_fields.city}}"},
        )
        services.create_schedule(campaign=plain, data=DAILY)
        one = campaign("one contact", audience_type="custom", audience_config={"contact_ids": [ana.id]})
        Campaign.objects.filter(id=one.id).update(status="active")
        services.create_schedule(campaign=one, data=DAILY)
        paused = campaign("paused")
        services.create_schedule(campaign=paused, data=DAILY)
        Campaign.objects.filter(id=paused.id).update(status="paused")
        for label, policy in [("busy skip", "skip"), ("busy buffer", "buffer_one"), ("busy allow", "allow")]:
            busy = campaign(label)
            ExecutionFactory(organization=org, campaign=busy, status="running")
            services.create_schedule(campaign=busy, data=DAILY | {"overlap_policy": policy})
        waiting = campaign("busy buffer, one waiting")
        ExecutionFactory(organization=org, campaign=waiting, status="running")
        schedule = services.create_schedule(campaign=waiting, data=DAILY | {"overlap_policy": "buffer_one"})
        ScheduleRun.objects.create(schedule=schedule, scheduled_for=utc("2025-11-02T12:00:00Z"), status="buffered")
        modified = campaign("modified")
        schedule = services.create_schedule(campaign=modified, data=DAILY)
        services.add_exception(
            schedule=schedule,
            data={
                "exception_type": "modify",
                "start_date": "2025-11-03T00:00:00Z",
                "end_date": "2025-11-03T23:59:59Z",
                "modified_config": {"rate_limit_per_hour": 3000},
            },
        )


def written(org) -> dict:
    """What the ticker left for the organization, keyed by campaign label instead of ids."""
    label = {c.id: c.description for c in Campaign.objects.filter(organization=org)}
    return {
        "runs": sorted(
            (label[r.schedule.campaign_id], r.scheduled_for, r.kind, r.status, r.reason, r.detail, r.settings)
            + (r.execution_id is not None,)
            for r in ScheduleRun.objects.filter(schedule__organization=org).select_related("schedule")
        ),
        "executions": sorted(
            (label[e.campaign_id], e.type, e.status, e.trigger_event, e.settings, str(e.errors), e.total_recipients)
            for e in Execution.objects.filter(organization=org)
        ),
        "recipients": sorted(
            (label[r.execution.campaign_id], r.phone, r.status, r.variables)
            for r in Recipient.objects.filter(execution__organization=org).select_related("execution")
        ),
        "logs": sorted(
            (label[g.campaign_id], g.type, g.severity, g.message, str(g.details), g.execution_id is not None)
            for g in CampaignLog.objects.filter(organization=org)
        ),
        "campaigns": sorted(
            (c.description, c.status, c.last_executed_at) for c in Campaign.objects.filter(organization=org)
        ),
        "schedules": sorted(
            (label[s.campaign_id], s.next_scheduled_at, s.last_executed_at, s.execution_count)
            for s in Schedule.objects.filter(organization=org)
        ),
    }


def test_a_batch_and_batches_of_one_give_every_outcome_of_a_start(
    org_a, org_b, monkeypatch, django_capture_on_commit_callbacks
):
    from campaigns import tasks

    queued = []
    monkeypatch.setattr(tasks.dispatch_execution, "apply_async", lambda args, **options: queued.append(args[0]))
    scenario(org_a)
    with time_machine.travel("2025-11-03T12:00:05Z", tick=False), django_capture_on_commit_callbacks(execute=True):
        set_wise = ticker.tick()
    scenario(org_b)
    with time_machine.travel("2025-11-03T12:00:05Z", tick=False), django_capture_on_commit_callbacks(execute=True):
        one_by_one = ticker.tick(batch_size=1)

    assert set_wise == one_by_one
    assert (set_wise["started"], set_wise["skipped"], set_wise["buffered"], set_wise["missed"]) == (5, 3, 1, 2)
    a, b = written(org_a), written(org_b)
    for part in a:
        assert a[part] == b[part], part
    # And what they are: the outcomes a single start gives.
    statuses = {run[0]: run[3] for run in a["runs"] if run[1] == utc("2025-11-03T12:00:00Z")}
    assert statuses == {
        "downtime": "started",
        "plain": "started",
        "one contact": "started",
        "paused": "skipped",
        "busy skip": "skipped",
        "busy buffer": "buffered",
        "busy allow": "started",
        "busy buffer, one waiting": "skipped",
        "modified": "started",
    }
    plain = next(e for e in a["executions"] if e[0] == "plain")
    assert plain[6] == 2 and "have no contact.name" in plain[5] and "city" in plain[5]
    assert ("plain", "5511990000001", "pending", {"who": "Ana", "city": "SP"}) in a["recipients"]
    assert next(e for e in a["executions"] if e[0] == "modified")[4] == {"rate_limit_per_hour": 3000}
    assert ("plain", "active", utc("2025-11-03T12:00:05Z")) in a["campaigns"]
    assert ("paused", "paused", None) in a["campaigns"]
    assert len(queued) == 2 * 5  # one dispatcher per execution, in each organization


def test_a_batch_that_fails_mid_way_rolls_back_and_starts_the_others_one_by_one(org_a, monkeypatch):
    """One audience that PostgreSQL cannot run fails the set-wise statement after the batch wrote
    its runs: the batch rolls back whole, and one by one only that schedule is left for later."""
    if connection.vendor != "postgresql":
        pytest.skip("a division by zero is an error on PostgreSQL")
    ContactFactory(organization=org_a)
    campaigns = [CampaignFactory(organization=org_a) for _ in range(4)]
    broken = campaigns[1]
    real = audience.audience_queryset

    def audience_queryset(*, organization, audience_type, audience_config):
        contacts = real(organization=organization, audience_type=audience_type, audience_config=audience_config)
        if audience_config == {"broken": True}:
            return contacts.extra(where=["1 / (random() * 0)::int = 1"])
        return contacts

    monkeypatch.setattr(audience, "audience_queryset", audience_queryset)
    Campaign.objects.filter(id=broken.id).update(audience_config={"broken": True})
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False) as clock:
        schedules = [services.create_schedule(campaign=c, data=DAILY) for c in campaigns]
        clock.move_to("2025-11-03T12:00:05Z")
        counts = ticker.tick()

    assert counts["started"] == 3
    assert not ScheduleRun.objects.filter(schedule=schedules[1]).exists()
    assert not Execution.objects.filter(campaign=broken).exists()
    schedules[1].refresh_from_db()
    assert schedules[1].next_scheduled_at == utc("2025-11-03T12:00:05Z") + ticker.RETRY_AFTER
    per_campaign = Counter(Execution.objects.values_list("campaign_id", flat=True))
    assert per_campaign == {c.id: 1 for c in campaigns if c != broken}
    assert ScheduleRun.objects.filter(status="started").count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_tickers_start_each_occurrence_once(org_a, monkeypatch):
    """Three tickers in threads (their own connections) over batches of the same due schedules,
    then again with every schedule's next_scheduled_at put back (a stale read): each once."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    from campaigns import tasks

    monkeypatch.setattr(tasks.dispatch_execution, "apply_async", lambda args, **options: None)
    contacts = [ContactFactory(organization=org_a) for _ in range(60)]
    campaigns = [
        CampaignFactory(organization=org_a, audience_type="custom", audience_config={"contact_ids": [c.id]})
        for c in contacts
    ]
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False):
        for c in campaigns:
            services.create_schedule(campaign=c, data=DAILY)
    at = utc("2025-11-03T12:00:05Z")
    totals = Counter()

    def race():
        barrier = threading.Barrier(3)

        def one():
            barrier.wait()
            try:
                counts = ticker.tick(at=at, batch_size=7)
                totals["started"] += counts["started"]
            finally:
                connection.close()

        threads = [threading.Thread(target=one) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    race()
    Schedule.objects.update(next_scheduled_at=utc("2025-11-03T12:00:00Z"))
    race()

    assert totals["started"] == 60
    per_campaign = Counter(Execution.objects.values_list("campaign_id", flat=True))
    assert len(per_campaign) == 60 and set(per_campaign.values()) == {1}
    assert ScheduleRun.objects.filter(status="started").count() == 60
    assert Recipient.objects.count() == 60
    assert set(Schedule.objects.values_list("execution_count", flat=True)) == {1}
    assert set(Schedule.objects.values_list("next_scheduled_at", flat=True)) == {utc("2025-11-04T12:00:00Z")}
    assert CampaignLog.objects.filter(type="execution_started").count() == 60
