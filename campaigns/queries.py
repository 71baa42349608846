"""Reads about campaigns, executions and recipients."""

from django.db.models import Count, QuerySet

from campaigns.models import Campaign, Execution, Recipient

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
