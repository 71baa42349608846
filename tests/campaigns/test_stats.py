"""Campaign totals follow statuses that arrive after an execution ended, recounted in batches."""

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask

from campaigns import stats, tasks
from campaigns.models import Campaign, Execution, Recipient
from campaigns.transitions import advance_recipients
from tests.factories.campaigns import CampaignFactory, ExecutionFactory
from tests.factories.contacts import ContactFactory

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def execution_with(organization, statuses: list[str], *, campaign=None, **fields) -> Execution:
    campaign = campaign or CampaignFactory(organization=organization)
    execution = ExecutionFactory(organization=organization, campaign=campaign, **fields)
    for status in statuses:
        contact = ContactFactory(organization=organization)
        Recipient.objects.create(execution=execution, contact=contact, phone=contact.phone, status=status)
    return execution


def totals(campaign) -> tuple:
    campaign.refresh_from_db()
    return (
        campaign.total_executions,
        campaign.total_sent,
        campaign.total_delivered,
        campaign.total_read,
        campaign.total_replied,
        campaign.total_completed,
        campaign.total_failed,
    )


@pytest.fixture
def finished(org_a):
    """An execution that ended yesterday; its campaign's totals were written then."""
    execution = execution_with(
        org_a,
        ["sent", "sent", "delivered", "failed"],
        status=Execution.Status.COMPLETED,
        started_at=NOW - timedelta(days=1, hours=1),
        completed_at=NOW - timedelta(days=1),
    )
    stats.refresh_campaign_totals(campaign=execution.campaign)
    assert totals(execution.campaign) == (1, 3, 1, 0, 0, 0, 1)
    return execution


def test_statuses_reported_after_the_end_reach_the_totals(finished, settings):
    settings.CAMPAIGNS_TOTALS_REFRESH_DAYS = 7
    recipients = Recipient.objects.filter(execution=finished)
    advance_recipients(recipients.filter(status="sent"), Recipient.Status.READ)
    advance_recipients(recipients.filter(status="delivered"), Recipient.Status.REPLIED)

    with time_machine.travel(NOW, tick=False):
        changed = tasks.refresh_campaign_totals()

    assert changed == 1
    assert totals(finished.campaign) == (1, 3, 3, 3, 1, 0, 1)


def test_unchanged_totals_are_not_written_again(finished):
    assert stats.refresh_recent_campaign_totals(days=7, at=NOW) == 0


def test_campaigns_whose_executions_ended_long_ago_are_left_alone(org_a):
    old = execution_with(
        org_a,
        ["delivered"],
        status=Execution.Status.COMPLETED,
        started_at=NOW - timedelta(days=40),
        completed_at=NOW - timedelta(days=30),
    )

    assert stats.refresh_recent_campaign_totals(days=7, at=NOW) == 0
    assert totals(old.campaign) == (0, 0, 0, 0, 0, 0, 0)

    assert stats.refresh_recent_campaign_totals(days=31, at=NOW) == 1
    assert totals(old.campaign) == (1, 1, 1, 0, 0, 0, 0)


def test_live_executions_count_and_tests_do_not(org_a):
    running = execution_with(org_a, ["pending", "sent", "read"], status=Execution.Status.RUNNING)
    execution_with(
        org_a, ["read", "read"], campaign=running.campaign, type=Execution.Type.TEST, status=Execution.Status.RUNNING
    )
    only_tests = execution_with(org_a, ["read"], type=Execution.Type.TEST, status=Execution.Status.RUNNING)

    stats.refresh_recent_campaign_totals(days=7, at=NOW)

    assert totals(running.campaign) == (1, 2, 1, 1, 0, 0, 0)
    assert totals(only_tests.campaign) == (0, 0, 0, 0, 0, 0, 0)


def test_it_counts_each_campaign_with_one_group_by(org_a):
    campaigns = [
        execution_with(org_a, ["sent", "delivered", "read"], status=Execution.Status.RUNNING).campaign for _ in range(3)
    ]
    execution_with(org_a, ["failed"], campaign=campaigns[0], status=Execution.Status.COMPLETED, completed_at=NOW)

    with CaptureQueriesContext(connection) as queries:
        assert stats.refresh_recent_campaign_totals(days=7, at=NOW) == 3

    group_bys = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]
    assert len(group_bys) == 3
    assert all('"campaigns_recipient"' in sql for sql in group_bys)
    assert len(queries.captured_queries) == 1 + 3 * 3  # the campaigns, then counts + executions + update each
    assert [totals(c)[1:] for c in campaigns] == [(3, 2, 1, 0, 0, 1), (3, 2, 1, 0, 0, 0), (3, 2, 1, 0, 0, 0)]


def test_deleted_campaigns_are_not_refreshed(org_a):
    execution = execution_with(org_a, ["sent"], status=Execution.Status.RUNNING)
    Campaign.objects.filter(id=execution.campaign_id).update(deleted_at=NOW)

    assert stats.refresh_recent_campaign_totals(days=7, at=NOW) == 0


def test_beat_runs_the_refresh_every_minute(db):
    call_command("setup_periodic_tasks", stdout=io.StringIO())

    task = PeriodicTask.objects.get(name="campaigns: refresh totals")
    assert (task.task, task.interval.every, task.interval.period, task.enabled) == (
        "campaigns.tasks.refresh_campaign_totals",
        60,
        "seconds",
        True,
    )
