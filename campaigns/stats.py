"""Numbers about executions and campaigns, always counted from recipient states.

Counts use the (execution, status) index; nothing increments a shared counter per
message. Campaign totals are recounted when an execution finishes, and every minute for
the campaigns with recent executions (`refresh_recent_campaign_totals`), so statuses
that webhooks report after the end still show.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign, CampaignLog, Execution, Recipient
from campaigns.outbound import enqueue_execution_completed

REACHED = {
    "sent": Recipient.PROGRESS,
    "delivered": Recipient.PROGRESS[1:],
    "read": Recipient.PROGRESS[2:],
    "replied": Recipient.PROGRESS[3:],
    "completed": Recipient.PROGRESS[4:],
}


def status_counts(recipients) -> dict[str, int]:
    counts = dict.fromkeys(Recipient.Status.values, 0)
    for status, count in recipients.order_by().values_list("status").annotate(n=Count("id")):
        counts[status] = count
    return counts


def summary(recipients) -> dict:
    """Totals by status, rates (of those sent) and average times to deliver and to read."""
    counts = status_counts(recipients)
    total = sum(counts.values())
    reached = {name: sum(counts[s] for s in statuses) for name, statuses in REACHED.items()}
    sent = reached["sent"]
    durations = recipients.order_by().aggregate(
        to_deliver=Avg(
            ExpressionWrapper(F("delivered_at") - F("sent_at"), output_field=DurationField()),
            filter=Q(delivered_at__isnull=False, sent_at__isnull=False),
        ),
        to_read=Avg(
            ExpressionWrapper(F("read_at") - F("sent_at"), output_field=DurationField()),
            filter=Q(read_at__isnull=False, sent_at__isnull=False),
        ),
    )
    done = total - counts["pending"] - counts["sending"]
    return {
        "total": total,
        "by_status": counts,
        "sent": sent,
        "delivered": reached["delivered"],
        "read": reached["read"],
        "replied": reached["replied"],
        "completed": reached["completed"],
        "failed": counts["failed"],
        "progress": round(100 * done / total, 1) if total else 100.0,
        "delivery_rate": _rate(reached["delivered"], sent),
        "read_rate": _rate(reached["read"], sent),
        "failure_rate": _rate(counts["failed"], total),
        "avg_seconds_to_deliver": _seconds(durations["to_deliver"]),
        "avg_seconds_to_read": _seconds(durations["to_read"]),
    }


def _rate(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def _seconds(duration) -> float | None:
    return round(duration.total_seconds(), 1) if duration is not None else None


def finalize_execution(*, execution_id: int) -> int:
    """Complete a running execution with nothing pending or sending; 1 if this call did it."""
    recipients = Recipient.objects.filter(execution_id=execution_id)
    if recipients.filter(status__in=[Recipient.Status.PENDING, Recipient.Status.SENDING]).exists():
        return 0
    execution = Execution.objects.select_related("campaign").get(id=execution_id)
    with transaction.atomic():
        counts = status_counts(recipients)
        if not execution.transition(
            Execution.Status.COMPLETED,
            source=Execution.Status.RUNNING,
            completed_at=timezone.now(),
            stats=counts,
            waiting_until=None,
        ):
            return 0
        campaign = execution.campaign
        enqueue_execution_completed(execution=execution, counts=counts)
        refresh_campaign_totals(campaign=campaign)
        CampaignLog.objects.create(
            organization_id=campaign.organization_id,
            campaign=campaign,
            execution=execution,
            type=CampaignLog.Type.EXECUTION_COMPLETED,
            message=_("Execution completed."),
            details=counts,
        )
        live = campaign.executions.filter(status__in=Execution.LIVE).exclude(type=Execution.Type.TEST)
        if campaign.trigger_type == Campaign.TriggerType.MANUAL and not live.exists():
            campaign.transition(Campaign.Status.COMPLETED)
    return 1


def refresh_campaign_totals(*, campaign: Campaign) -> int:
    recipients = Recipient.objects.filter(execution__campaign=campaign).exclude(execution__type=Execution.Type.TEST)
    counts = status_counts(recipients)
    totals = {f"total_{name}": sum(counts[s] for s in statuses) for name, statuses in REACHED.items()}
    totals["total_failed"] = counts["failed"]
    totals["total_executions"] = campaign.executions.exclude(type=Execution.Type.TEST).count()
    # Unchanged totals are not written: the periodic refresh touches only what moved.
    return Campaign.objects.filter(id=campaign.id).exclude(**totals).update(**totals)


def refresh_recent_campaign_totals(*, days: int, at: datetime | None = None) -> int:
    """Recount the totals of campaigns with an execution live or finished in the last `days`.

    One GROUP BY over recipient states per campaign; returns how many campaigns changed.
    """
    since = (at or timezone.now()) - timedelta(days=days)
    recent = (
        Execution.objects.exclude(type=Execution.Type.TEST)
        .filter(Q(status__in=Execution.LIVE) | Q(completed_at__gte=since) | Q(started_at__gte=since))
        .values("campaign_id")
    )
    changed = 0
    for campaign in Campaign.objects.filter(id__in=recent, deleted_at__isnull=True).only("id"):
        changed += refresh_campaign_totals(campaign=campaign)
    return changed
