"""Reads about campaigns, executions and recipients."""

from django.db.models import Count, QuerySet

from campaigns.models import Campaign, Execution, Recipient, Schedule

REPORT_COLUMNS = [
    "recipient_id",
    "contact_id",
    "phone",
    "status",
    "provider_message_id",
    "retry_count",
    "error",
    "sent_at",
    "delivered_at",
    "read_at",
    "replied_at",
    "completed_at",
    "failed_at",
    "variables",
]


def campaign_recipients(*, campaign: Campaign) -> QuerySet[Recipient]:
    return Recipient.objects.filter(execution__campaign=campaign).exclude(execution__type=Execution.Type.TEST)


def execution_recipients(*, execution: Execution, statuses: list[str] | None = None) -> QuerySet[Recipient]:
    recipients = Recipient.objects.filter(execution=execution).order_by("id")
    return recipients.filter(status__in=statuses) if statuses else recipients


def report_rows(*, execution: Execution, chunk_size: int = 2000):
    """One row per recipient, streamed from a server-side cursor (bounded memory)."""
    fields = [c if c != "recipient_id" else "id" for c in REPORT_COLUMNS]
    for row in (
        Recipient.objects.filter(execution=execution)
        .order_by("id")
        .values_list(*fields)
        .iterator(chunk_size=chunk_size)
    ):
        yield [("" if value is None else value.isoformat() if hasattr(value, "isoformat") else value) for value in row]


def live_executions(*, campaign: Campaign) -> QuerySet[Execution]:
    return campaign.executions.filter(status__in=Execution.LIVE)


def execution_status_counts(*, execution_ids: list[int]) -> dict[int, dict[str, int]]:
    """{execution id: {status: recipients}} for several executions in one grouped query (the status index)."""
    counts: dict[int, dict[str, int]] = {i: dict.fromkeys(Recipient.Status.values, 0) for i in execution_ids}
    rows = (
        Recipient.objects.filter(execution_id__in=execution_ids)
        .order_by()
        .values_list("execution_id", "status")
        .annotate(n=Count("id"))
    )
    for execution_id, status, n in rows:
        counts[execution_id][status] = n
    return counts


def next_scheduled_runs(
    *, organization_ids: list[int] | None, campaign_id: int | None = None, limit: int = 10
) -> list[dict]:
    """The next runs of these organizations' campaign schedules, soonest first (None: every organization).

    Each item is `{"campaign": name, "campaign_id": id, "at": aware datetime, "schedule": label}`,
    read from the active schedules' `next_scheduled_at` (what the ticker runs next; the
    partial index `campaigns_schedule_due` serves it).
    """
    schedules = Schedule.objects.filter(
        is_active=True, is_paused=False, next_scheduled_at__isnull=False, campaign__deleted_at=None
    )
    if organization_ids is not None:
        schedules = schedules.filter(campaign__organization_id__in=organization_ids)
    if campaign_id is not None:
        schedules = schedules.filter(campaign_id=campaign_id)
    rows = schedules.order_by("next_scheduled_at").values_list(
        "campaign_id", "campaign__name", "next_scheduled_at", "recurrence_type"
    )[:limit]
    labels = dict(Schedule.RecurrenceType.choices)
    return [
        {"campaign": name, "campaign_id": cid, "at": at, "schedule": str(labels.get(kind, kind))}
        for cid, name, at, kind in rows
    ]


def is_campaign_message(*, instance, contact, message_id: str) -> bool:
    """Whether a `fromMe` message is a campaign's own send (its id, or a send to the contact under way)."""
    recipients = Recipient.objects.filter(instance=instance)
    if message_id and recipients.filter(provider_message_id=message_id).exists():
        return True
    return recipients.filter(contact=contact, status=Recipient.Status.SENDING).exists()
