"""Deleting what grows with every message once it is older than its kind's retention.

Each kind names a model, the date that ages it and what must be kept whatever its age.
Rows go in batches of RETENTION_BATCH_SIZE, oldest id first, each batch one short
transaction (`DELETE … WHERE id IN (SELECT id … ORDER BY id LIMIT n)` through Django's
delete): the newest id old enough is found first, and each batch's query only reads ids
between the last batch's and that bound, so no statement scans or locks the young part of
a table, and the writers in between (webhooks, the dispatcher) only wait for one batch.

Kept whatever their age:
- webhook events still `pending` or `failed` (not applied yet), and the applied
  `connection.update` events of an instance that still has connection events to settle
  (the settle compares against the newest applied one's provider time);
- inbound message history the engine has not processed yet (`processed_at` empty);
- nothing else: campaign logs, sandbox messages, send slots and flow activity only age.

The settings and their defaults are in `config/settings.py` (RETENTION_DAYS) and
docs/operations.md "Retention". `manage.py apply_retention [--dry-run]` runs it by hand;
the `ops: retention` beat job runs it nightly.
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    name: str
    model: str
    date_field: str
    ordered_by_id: bool = True  # ids grow with the date (False: a natural key, use the date's index)

    def queryset(self, cut):
        model = apps.get_model(self.model)
        rows = model.objects.filter(**{f"{self.date_field}__lt": cut})
        return rows.exclude(self.keep()) if self.keep() is not None else rows

    def keep(self):
        return KEEP.get(self.name, lambda: None)()


def _webhook_events_kept():
    event = apps.get_model("webhooks.WebhookEvent")
    unapplied = [event.Status.PENDING, event.Status.FAILED]
    settling = event.objects.filter(
        instance_id=OuterRef("instance_id"), event="connection.update", status__in=unapplied
    )
    return Q(status__in=unapplied) | (Q(event="connection.update") & Q(Exists(settling)))


def _history_kept():
    return Q(direction="in", processed_at__isnull=True)


KEEP = {"webhook_events": _webhook_events_kept, "message_history": _history_kept}

KINDS = [
    Kind("webhook_events", "webhooks.WebhookEvent", "received_at"),
    Kind("message_history", "flows.MessageHistory", "created_at"),
    Kind("sandbox_messages", "instances.SandboxMessage", "created_at"),
    Kind("send_slots", "campaigns.SendSlot", "expires_at", ordered_by_id=False),
    Kind("campaign_logs", "campaigns.CampaignLog", "created_at"),
    Kind("activity_logs", "flows.FlowActivity", "created_at"),
]


def apply_retention(*, dry_run: bool = False, now=None, batch_size: int | None = None) -> dict[str, int]:
    """Delete (or, dry, count) each kind's rows older than its retention; returns the counts by kind."""
    now = now or timezone.now()
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    counts = {}
    for kind in KINDS:
        days = settings.RETENTION_DAYS.get(kind.name, 0)
        if days <= 0:
            continue
        cut = now - timedelta(days=days)
        started = time.monotonic()
        counts[kind.name] = kind.queryset(cut).count() if dry_run else _delete(kind, cut, batch_size)
        logger.info(
            "retention %s: %s %d rows older than %s days (%.1f s)",
            kind.name,
            "would delete" if dry_run else "deleted",
            counts[kind.name],
            days,
            time.monotonic() - started,
        )
    return counts


def _delete(kind: Kind, cut, batch_size: int) -> int:
    rows = kind.queryset(cut)
    deleted = 0
    if not kind.ordered_by_id:
        while ids := list(rows.order_by(kind.date_field).values_list("pk", flat=True)[:batch_size]):
            deleted += _delete_batch(kind, ids)
        return deleted
    bound = rows.order_by("-id").values_list("id", flat=True).first()
    last = 0
    while bound is not None:
        ids = list(rows.filter(id__gt=last, id__lte=bound).order_by("id").values_list("id", flat=True)[:batch_size])
        if not ids:
            break
        deleted += _delete_batch(kind, ids)
        last = ids[-1]
    return deleted


def _delete_batch(kind: Kind, ids: list) -> int:
    model = apps.get_model(kind.model)
    with transaction.atomic():
        # Deleted through Django (not a raw DELETE): rows that point at these are handled as
        # their foreign keys say; the age and what is kept are checked again under the lock.
        return model.objects.filter(pk__in=ids).delete()[1].get(model._meta.label, 0)
