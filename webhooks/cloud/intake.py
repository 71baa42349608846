"""The Cloud API's durable intake: each status or message stored once before the 2xx, then applied once.

A POST is cut into items (`webhooks.cloud.parser.split`), each stored as a `WebhookEvent`
row with its own dedupe key (`status:<wamid>:<status>`, `message:<wamid>`), so Meta's
redeliveries and the same status in two batches store nothing twice. New rows are
applied in the request when `WEBHOOKS_APPLY_IN_REQUEST` is set, else by a worker
(`webhooks.cloud.tasks.apply_cloud_webhook_event`, queued after commit); a row whose
application failed stays `failed` and `retry_unapplied()` applies it again.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config import metrics
from webhooks.cloud.parser import parse_item, split
from webhooks.cloud.routing import apply
from webhooks.intake import apply_stored, unapplied_ids
from webhooks.models import WebhookEvent
from webhooks.store import store

logger = logging.getLogger(__name__)

PROVIDER = WebhookEvent.Provider.CLOUD


def receive(*, instance, payload) -> dict:
    """Store the items of a posted body that are this number's; raises BadPayload for a broken shape.

    Returns the counts: `accepted` (new rows), `duplicate`, `other_number` (items about
    another phone number id, which a shared app webhook may send).
    """
    counts = {"accepted": 0, "duplicate": 0, "other_number": 0}
    new = []
    for item in split(payload):
        account_item = item.event == "template_status"
        if account_item and item.payload["business_account_id"] != instance.cloud_business_account_id:
            counts["other_number"] += 1
            continue
        if not account_item and item.phone_number_id != instance.cloud_phone_number_id:
            counts["other_number"] += 1
            continue
        event_id = store(instance=instance, provider=PROVIDER, name=item.event, payload=item.payload, parsed=item)
        if event_id is None:
            counts["duplicate"] += 1
            continue
        counts["accepted"] += 1
        new.append(event_id)
        metrics.observe_lag(provider=PROVIDER, received_at=timezone.now(), provider_time=item.provider_time)
    if settings.WEBHOOKS_APPLY_IN_REQUEST:
        for event_id in new:
            apply_event(event_id=event_id)
    elif new:
        from webhooks.cloud.tasks import apply_cloud_webhook_event

        transaction.on_commit(lambda: [apply_cloud_webhook_event.delay(event_id) for event_id in new])
    return counts


def apply_event(*, event_id: int) -> str:
    """Apply a stored Cloud API event once; returns its result ("failed" when it raised, kept for retry)."""
    return apply_stored(
        event_id,
        providers=[PROVIDER],
        apply=lambda event: apply(instance=event.instance, event=parse_item(event.payload), at=event.received_at),
    )


def retry_unapplied(*, older_than_seconds: float | None = None, limit: int = 500) -> dict[str, int]:
    """Apply Cloud API events left pending (a lost task) or failed (under the attempt limit)."""
    results: dict[str, int] = {}
    for event_id in unapplied_ids(providers=[PROVIDER], older_than_seconds=older_than_seconds, limit=limit):
        result = apply_event(event_id=event_id)
        results[result] = results.get(result, 0) + 1
    return results
