"""The live pages' heavy counts are served by indexes: index-only scans, and a LIMIT that stops.

Plans are read with sequential scans discouraged (a test table is small, so the planner would
rightly prefer reading it whole); what is checked is that an index able to serve each query
exists and is the one chosen, which is what keeps them cheap with a million recipients.
"""

from datetime import timedelta

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from campaigns import live
from campaigns.models import Execution, Recipient
from tests.factories.campaigns import CampaignFactory
from tests.factories.contacts import ContactFactory


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def execution_of(org, statuses):
    campaign = CampaignFactory(organization=org, status="active")
    execution = Execution.objects.create(organization=org, campaign=campaign, status="running")
    now = timezone.now()
    for i, status in enumerate(statuses):
        Recipient.objects.create(
            execution=execution,
            contact=ContactFactory(organization=org),
            phone=f"+55119{i:08d}",
            status=status,
            sent_at=None if status == "pending" else now - timedelta(hours=i),
        )
    return campaign, execution


def test_the_funnel_is_an_index_only_count_of_the_status_index(org_a):
    _campaign, execution = execution_of(org_a, ["pending", "sent", "read", "failed"])
    counts = live.counts_by_execution([execution.id])[execution.id]
    assert (counts["pending"], counts["sent"], counts["read"], counts["failed"]) == (1, 1, 1, 1)
    queryset = (
        Recipient.objects.filter(execution_id__in=[execution.id])
        .order_by()
        .values_list("execution_id", "status")
        .annotate(n=Count("*"))
    )
    assert "Index Only Scan using campaigns_recipient_status on campaigns_recipient" in plan(queryset)


def test_sends_per_hour_count_each_hour_from_the_sent_index(org_a):
    campaign, execution = execution_of(org_a, ["sent", "delivered", "read", "pending", "failed"])
    bars = live._sends_per_hour(
        campaign=campaign,
        since=(timezone.now() - timedelta(hours=23)).replace(minute=0, second=0, microsecond=0),
        hours=24,
    )
    # Sent 0, 1, 2 and 4 hours ago (the pending one never was): one in each of those bars.
    assert [bar["sent"] for bar in bars][-5:] == [1, 0, 1, 1, 1]
    assert sum(bar["sent"] for bar in bars) == 4
    since = timezone.now() - timedelta(hours=23)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {live.PER_HOUR_SQL}", [[execution.id], since, timezone.now()])
        found = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using campaigns_recipient_sent on campaigns_recipient" in found


def test_sends_per_hour_without_postgresql_count_the_same(org_a):
    """SQLite (`make run`'s default) has no generate_series: the ORM's count must give the same bars."""
    _campaign, execution = execution_of(org_a, ["sent", "delivered", "read", "pending", "failed", "sent"])
    two_days_ago = timezone.now() - timedelta(days=2)
    Recipient.objects.filter(execution=execution, phone__endswith="5").update(sent_at=two_days_ago)
    since = (timezone.now() - timedelta(hours=23)).replace(minute=0, second=0, microsecond=0)
    by_sql = live._count_per_hour_sql([execution.id], since=since, hours=24)
    assert sorted(by_sql.values()) == [0] * 20 + [1] * 4  # the one sent two days ago is outside the window
    assert live._count_per_hour_orm([execution.id], since=since, hours=24) == {h: n for h, n in by_sql.items() if n}


def test_the_recipients_list_by_status_reads_the_status_index_in_its_order(org_a):
    execution_of(org_a, ["failed", "sent", "failed"])
    queryset = Recipient.objects.filter(execution__organization__in=[org_a.id], status="failed").order_by("id")[:50]
    found = plan(queryset)
    assert "campaigns_recipient_status_id" in found and "Sort" not in found
