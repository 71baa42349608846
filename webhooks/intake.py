"""What every provider's intake shares: the answer to a posted event and the stored row's outcome.

An accepted event is a `WebhookEvent` row before the 2xx; applying it marks the row
`applied` (with a short result word) or `failed` (with its error, retried by the sweep).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns.tracking import NotRecordedYet
from config import logfmt, metrics
from webhooks.models import WebhookEvent

logger = logging.getLogger(__name__)

UNAPPLIED = [WebhookEvent.Status.PENDING, WebhookEvent.Status.FAILED]
DEFERRED = "deferred"  # kept for the retry of unapplied events (`campaigns.tracking.NotRecordedYet`)


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


def apply_stored(event_id: int, *, providers, apply: Callable[[WebhookEvent], str]) -> str:
    """Apply one stored event of these providers once; returns its result ("failed" when it raised).

    The row is locked and its status checked, so a drainer, the sweep and a replay may meet on
    one row and the second does nothing; a row of another provider is never applied here.
    """
    try:
        with transaction.atomic():
            event = (
                WebhookEvent.objects.select_for_update(of=("self",))
                .select_related("instance__organization")
                .filter(id=event_id, provider__in=providers, status__in=UNAPPLIED)
                .first()
            )
            if event is None:
                return WebhookEvent.objects.filter(id=event_id).values_list("result", flat=True).first() or "gone"
            with logfmt.bound(organization_id=event.organization_id, instance_id=event.instance_id):
                result = apply(event)[:64]
            finish(event_id, status=WebhookEvent.Status.APPLIED, result=result)
            measure_applied(event.event, result, event.received_at)
        return result
    except NotRecordedYet as exc:
        _count_unapplied(event_id, DEFERRED)
        logger.info("webhook event %s deferred: %s", event_id, exc)
        finish(event_id, status=WebhookEvent.Status.FAILED, result=DEFERRED, error=str(exc))
        return DEFERRED
    except Exception as exc:
        _count_unapplied(event_id, "failed")
        logger.exception("webhook event %s failed to apply", event_id)
        finish(event_id, status=WebhookEvent.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        return "failed"


def unapplied_ids(*, providers, older_than_seconds: float | None = None, limit: int = 500) -> list[int]:
    """Events of these providers left pending (a lost task) or failed under the attempt limit, oldest first."""
    if older_than_seconds is None:
        older_than_seconds = settings.WEBHOOKS_RETRY_AFTER_SECONDS
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        WebhookEvent.objects.filter(
            provider__in=providers,
            status__in=UNAPPLIED,
            received_at__lt=cutoff,
            attempts__lt=settings.WEBHOOKS_MAX_ATTEMPTS,
        )
        .order_by("received_at")
        .values_list("id", flat=True)[:limit]
    )


def _count_unapplied(event_id: int, result: str) -> None:
    name = WebhookEvent.objects.filter(id=event_id).values_list("event", flat=True).first() or ""
    metrics.WEBHOOK_EVENTS.labels(name, result).inc()
