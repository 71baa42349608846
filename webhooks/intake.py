"""What every provider's intake shares: the answer to a posted event and the stored row's outcome.

An accepted event is a `WebhookEvent` row before the 2xx; applying it marks the row
`applied` (with a short result word) or `failed` (with its error, retried by the sweep).
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config import metrics
from webhooks.models import WebhookEvent

UNAPPLIED = [WebhookEvent.Status.PENDING, WebhookEvent.Status.FAILED]


@dataclass(frozen=True)
class Outcome:
    status: str
    event_id: int | None = None
    reason: str = ""

    def as_json(self) -> dict:
        answer = {"status": self.status}
        if self.event_id is not None:
            answer["event_id"] = self.event_id
        if self.reason:
            answer["reason"] = self.reason
        return answer


def measure_applied(event: str, result: str, received_at) -> None:
    """After commit: the event counted by type and result, its wait from storage to application."""

    def count():
        metrics.WEBHOOK_EVENTS.labels(event, result).inc()
        metrics.WEBHOOK_DRAIN_SECONDS.labels(event).observe(max(0.0, (timezone.now() - received_at).total_seconds()))

    transaction.on_commit(count)


def finish(event_id: int, *, status: str, result: str = "", error: str = "") -> None:
    WebhookEvent.objects.filter(id=event_id).update(
        status=status,
        result=result,
        error=error,
        attempts=F("attempts") + 1,
        applied_at=timezone.now() if status == WebhookEvent.Status.APPLIED else None,
    )
