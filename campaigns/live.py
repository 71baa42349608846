"""What the admin's live pages show: the dashboard, a campaign, an execution.

Each function returns plain JSON-ready data and reads a bounded number of rows,
whatever the number of recipients: counts go through the (execution, status) index
with one GROUP BY, today's message counts come from the instances' daily counters, and
every list is sliced. The admin renders these once and its JSON endpoints serve them
again while something runs (see `templates/admin/whatsflow/live.html`).
"""

from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone

from campaigns import limits, queries
from campaigns.models import Campaign, CampaignLog, Execution, Recipient
from campaigns.stats import REACHED
from contacts.models import Contact
from instances.models import WhatsAppInstance

LIVE_EXECUTIONS_SHOWN = 20
LOGS_SHOWN = 10
INSTANCES_SHOWN = 50
ALERT_SEVERITIES = [CampaignLog.Severity.WARNING, CampaignLog.Severity.ERROR]
# The funnel's steps, each counting the recipients that reached it or went further.
FUNNEL = ["total", "sent", "delivered", "read", "replied", "completed"]
BESIDE_FUNNEL = ["failed", "opted_out", "unknown", "skipped"]


def _scoped(queryset, organization_ids, field="organization_id__in"):
    return queryset if organization_ids is None else queryset.filter(**{field: organization_ids})


def counts_by_execution(execution_ids) -> dict[int, dict[str, int]]:
    """{execution id: {status: n}} for a few executions, with one GROUP BY for those not cached.

    Every viewer of the live pages polls these every few seconds: a count is shared for
    `ADMIN_POLL_SECONDS` through the cache, so a million-recipient execution is counted
    once per period, however many operators watch it.
    """
    execution_ids = list(dict.fromkeys(execution_ids))
    keys = {execution_id: f"admin:counts:{execution_id}" for execution_id in execution_ids}
    cached = cache.get_many(keys.values()) if settings.ADMIN_POLL_SECONDS else {}
    counts = {i: cached[keys[i]] for i in execution_ids if keys[i] in cached}
    missing = [i for i in execution_ids if i not in counts]
    if not missing:
        return counts
    fresh = {execution_id: dict.fromkeys(Recipient.Status.values, 0) for execution_id in missing}
    rows = (
        Recipient.objects.filter(execution_id__in=missing)
        .order_by()
        .values_list("execution_id", "status")
        .annotate(n=Count("*"))
    )
    for execution_id, status, n in rows:
        fresh[execution_id][status] = n
    if settings.ADMIN_POLL_SECONDS:
        cache.set_many({keys[i]: value for i, value in fresh.items()}, timeout=settings.ADMIN_POLL_SECONDS)
    return {**counts, **fresh}


def progress(counts: dict[str, int]) -> dict:
    total = sum(counts.values())
    done = total - counts.get("pending", 0) - counts.get("sending", 0)
    return {"done": done, "total": total, "percent": round(100 * done / total, 1) if total else 100.0}


def execution_row(execution: Execution, counts: dict[str, int]) -> dict:
    return {
        "id": execution.id,
        "campaign": execution.campaign.name if execution.campaign_id else "",
        "campaign_url": reverse("admin:campaigns_campaign_change", args=[execution.campaign_id]),
        "url": reverse("admin:campaigns_execution_change", args=[execution.id]),
        "type": execution.get_type_display(),
        "status": execution.status,
        "status_label": execution.get_status_display(),
        "pause_reason": execution.get_pause_reason_display() if execution.pause_reason else "",
        "live": execution.status in Execution.LIVE,
        **progress(counts),
        "counts": counts,
    }


def funnel(counts: dict[str, int]) -> dict:
    """Reached-or-beyond counts per step, the ends beside them, and the rates of those sent."""
    reached = {name: sum(counts.get(s, 0) for s in statuses) for name, statuses in REACHED.items()}
    steps = {"total": sum(counts.values()), **reached}
    sent = reached["sent"]
    return {
        "steps": steps,
        "beside": {name: counts.get(name, 0) for name in BESIDE_FUNNEL},
        "delivery_rate": round(100 * reached["delivered"] / sent, 1) if sent else 0.0,
        "read_rate": round(100 * reached["read"] / sent, 1) if sent else 0.0,
    }


def local_midnight(at: datetime) -> datetime:
    zone = timezone.get_current_timezone()
    return datetime.combine(at.astimezone(zone).date(), time.min, tzinfo=zone)


# Dashboard -----------------------------------------------------------------------------


def dashboard(*, organization_ids: list[int] | None, at: datetime | None = None) -> dict:
    """Everything the admin's home shows for these organizations (None: all of them)."""
    at = at or timezone.now()
    return {
        "executions": live_executions(organization_ids=organization_ids),
        "today": today_counts(organization_ids=organization_ids, at=at),
        "instances": instance_rows(organization_ids=organization_ids, at=at),
        "logs": recent_alerts(organization_ids=organization_ids),
        "next_runs": queries.next_scheduled_runs(organization_ids=organization_ids, limit=10),
    }


def live_executions(*, organization_ids) -> list[dict]:
    """Live executions with their progress: what is left (pending, sending) against their total.

    Only the unfinished recipients are counted (the (execution, status) index), so the
    cost follows the work left, not the size of the execution.
    """
    executions = list(
        _scoped(Execution.objects.filter(status__in=Execution.LIVE), organization_ids)
        .select_related("campaign")
        .order_by("-id")[:LIVE_EXECUTIONS_SHOWN]
    )
    left = dict(
        Recipient.objects.filter(
            execution__in=executions, status__in=[Recipient.Status.PENDING, Recipient.Status.SENDING]
        )
        .order_by()
        .values("execution_id")
        .annotate(n=Count("*"))
        .values_list("execution_id", "n")
    )
    rows = []
    for execution in executions:
        total = execution.total_recipients
        counts = {"pending": left.get(execution.id, 0), "done": max(0, total - left.get(execution.id, 0))}
        row = execution_row(execution, counts)
        row.update(done=counts["done"], total=total, percent=round(100 * counts["done"] / total, 1) if total else 100.0)
        rows.append(row)
    return rows


def today_counts(*, organization_ids, at: datetime) -> dict[str, int]:
    """Today's messages from the instances' daily counters; opt-outs since local midnight."""
    totals = _scoped(WhatsAppInstance.objects.all(), organization_ids).aggregate(
        sent=Sum("sent_today"),
        delivered=Sum("delivered_today"),
        read=Sum("read_today"),
        replied=Sum("replies_today"),
        failed=Sum("failed_today"),
    )
    opted_out = _scoped(Contact.objects.filter(opted_out_at__gte=local_midnight(at)), organization_ids).count()
    return {**{name: value or 0 for name, value in totals.items()}, "opted_out": opted_out}


def instance_rows(*, organization_ids, at: datetime) -> list[dict]:
    instances = _scoped(WhatsAppInstance.objects.all(), organization_ids).order_by("name")[:INSTANCES_SHOWN]
    rows = []
    for instance in instances:
        cap = limits.daily_cap(instance, at)
        rows.append(
            {
                "id": instance.id,
                "name": instance.name,
                "url": reverse("admin:instances_whatsappinstance_change", args=[instance.id]),
                "provider": instance.get_provider_display(),
                "state": instance.connection_state,
                "state_label": instance.get_connection_state_display(),
                "needs_qr_login": instance.needs_qr_login,
                "health": instance.health_score,
                "sent_today": instance.sent_today,
                "cap": cap,
                "cap_percent": min(100.0, round(100 * instance.sent_today / cap, 1)) if cap else 0.0,
            }
        )
    return rows


def recent_alerts(*, organization_ids) -> list[dict]:
    logs = (
        _scoped(CampaignLog.objects.filter(severity__in=ALERT_SEVERITIES), organization_ids)
        .select_related("campaign")
        .order_by("-id")[:LOGS_SHOWN]
    )
    return [
        {
            "id": log.id,
            "at": timezone.localtime(log.created_at).strftime("%d/%m %H:%M"),
            "campaign": log.campaign.name,
            "campaign_url": reverse("admin:campaigns_campaign_change", args=[log.campaign_id]),
            "severity": log.severity,
            "severity_label": log.get_severity_display(),
            "type": log.get_type_display(),
            "message": log.message,
        }
        for log in logs
    ]


# Campaign and execution pages ------------------------------------------------------------


def campaign_page(*, campaign: Campaign, at: datetime | None = None) -> dict:
    """The campaign's funnel over its non-test executions, sends per hour, its executions."""
    at = at or timezone.now()
    executions = list(campaign.executions.select_related("campaign").order_by("-id")[:10])
    shown = [e.id for e in executions]
    # Older executions than the ten shown count in the funnel too (tests never do).
    older = list(
        campaign.executions.exclude(type=Execution.Type.TEST).exclude(id__in=shown).values_list("id", flat=True)
    )
    counts = counts_by_execution(shown + older)
    counted = [e.id for e in executions if e.type != Execution.Type.TEST] + older
    totals = dict.fromkeys(Recipient.Status.values, 0)
    for execution_id in counted:
        for status, n in counts[execution_id].items():
            totals[status] += n
    return {
        "status": campaign.status,
        "status_label": campaign.get_status_display(),
        "funnel": funnel(totals),
        "per_hour": sends_per_hour(campaign=campaign, at=at),
        "executions": [execution_row(e, counts[e.id]) for e in executions],
        "live": any(e.status in Execution.LIVE for e in executions),
    }


SENDS_PER_HOUR_SECONDS = 60


def sends_per_hour(*, campaign: Campaign, at: datetime, hours: int = 24) -> list[dict]:
    """Sends of the last `hours` hours, one bar per hour (zeros included), shared for a minute.

    Reads the recipients of the campaign's executions active in that period only.
    """
    since = (at - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    key = f"admin:per-hour:{campaign.id}:{since.isoformat()}"
    bars = cache.get(key)
    if bars is None:
        bars = _sends_per_hour(campaign=campaign, since=since, hours=hours)
        cache.set(key, bars, timeout=SENDS_PER_HOUR_SECONDS)
    return bars


# One index-only COUNT(*) per hour over the (execution, sent_at) partial index: counting
# index entries in a range is cheaper than truncating every row's timestamp and grouping.
PER_HOUR_SQL = f"""
    SELECT hour.start, (
        SELECT COUNT(*) FROM {Recipient._meta.db_table} recipient
        WHERE recipient.execution_id = ANY(%s) AND recipient.sent_at >= hour.start
          AND recipient.sent_at < hour.start + interval '1 hour'
    )
    FROM generate_series(%s::timestamptz, %s::timestamptz, interval '1 hour') AS hour(start)
"""


def _sends_per_hour(*, campaign: Campaign, since: datetime, hours: int) -> list[dict]:
    recent = list(
        campaign.executions.filter(Q(status__in=Execution.LIVE) | Q(completed_at__gte=since))
        .exclude(type=Execution.Type.TEST)
        .values_list("id", flat=True)
    )
    by_hour = {}
    if recent:
        count = _count_per_hour_sql if connection.vendor == "postgresql" else _count_per_hour_orm
        by_hour = count(recent, since=since, hours=hours)
    zone = timezone.get_current_timezone()
    bars = []
    for i in range(hours):
        hour = since + timedelta(hours=i)
        bars.append({"hour": hour.astimezone(zone).strftime("%H:00"), "sent": by_hour.get(hour, 0)})
    return bars


def _count_per_hour_sql(execution_ids: list[int], *, since: datetime, hours: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(PER_HOUR_SQL, [execution_ids, since, since + timedelta(hours=hours - 1)])
        return {hour: n for hour, n in cursor.fetchall()}


def _count_per_hour_orm(execution_ids: list[int], *, since: datetime, hours: int) -> dict:
    """The same counts on a database without `generate_series` (SQLite, `make run`'s default)."""
    rows = (
        Recipient.objects.filter(
            execution_id__in=execution_ids, sent_at__gte=since, sent_at__lt=since + timedelta(hours=hours)
        )
        .annotate(hour=TruncHour("sent_at", tzinfo=UTC))
        .order_by()
        .values_list("hour")
        .annotate(n=Count("*"))
    )
    return dict(rows)


def execution_page(*, execution: Execution) -> dict:
    counts = counts_by_execution([execution.id])[execution.id]
    return {**execution_row(execution, counts), "funnel": funnel(counts)}
