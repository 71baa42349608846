"""Reads about campaigns, executions and recipients."""

from django.db.models import QuerySet

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


def next_scheduled_runs(*, organization_ids: list[int] | None, limit: int = 10) -> list[dict]:
    """The next runs of these organizations' campaign schedules, soonest first (None: every organization).

    Each item is `{"campaign": name, "campaign_id": id, "at": aware datetime, "schedule": label}`,
    read from the active schedules' next occurrence as the schedule calculator computes it.
    Campaigns have no schedules in this version, so there is nothing to list yet.
    """
    return []
