"""The stored Evolution events as a queue: apply each once, settle connection storms, retry.

Applying an event is idempotent (the row is locked and its status checked), so a drainer,
the sweep and `manage.py replay_webhooks` may meet on one row and the second does nothing.
Connection events are coalesced: one settle a few seconds after a storm applies only the
newest by the provider's clock, so executions do not flap and the logs get one entry.
"""

import logging
import math
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.redis import get_redis, key
from webhooks.evolution.parser import parse
from webhooks.evolution.routing import apply
from webhooks.intake import UNAPPLIED, apply_stored, finish, measure_applied, unapplied_ids
from webhooks.models import WebhookEvent
from webhooks.wakeup import drain_key

logger = logging.getLogger(__name__)

CONNECTION = "connection.update"
# The rows this queue applies (the Cloud API's have their own, `webhooks.cloud.intake`).
PROVIDERS = [WebhookEvent.Provider.EVOLUTION, WebhookEvent.Provider.SANDBOX]


def apply_event(*, event_id: int) -> str:
    """Apply a stored event once; returns its result ("failed" when it raised, kept for retry)."""
    row = WebhookEvent.objects.filter(id=event_id).values_list("event", "instance_id", "provider").first()
    if row is None:
        return "gone"
    if row[0] == CONNECTION and row[2] in PROVIDERS:
        return settle_connection(instance_id=row[1])
    return apply_stored(event_id, providers=PROVIDERS, apply=_apply_row)


def _apply_row(event: WebhookEvent) -> str:
    results = [
        apply(instance=event.instance, event=parsed, at=event.received_at)
        for parsed in parse(event.payload, url_event=event.event).events
    ]
    return ",".join(dict.fromkeys(results))


def settle_connection(*, instance_id: int) -> str:
    """Apply the newest unapplied connection event of an instance; the older ones are superseded."""
    client = get_redis()
    if client is not None:
        # Events stored from now on schedule their own settle instead of riding on this one,
        # which may already have read the rows (a busy worker runs it after the window).
        client.delete(_settle_key(instance_id))
    try:
        with transaction.atomic():
            events = WebhookEvent.objects.filter(instance_id=instance_id, event=CONNECTION)
            unapplied = list(
                events.select_for_update(of=("self",))
                .select_related("instance__organization")
                .filter(status__in=UNAPPLIED)
                .order_by(F("provider_time").asc(nulls_first=True), "id")
            )
            if not unapplied:
                return "nothing_to_settle"
            newest, older = unapplied[-1], [event.id for event in unapplied[:-1]]
            last_applied = (
                events.filter(status=WebhookEvent.Status.APPLIED, provider_time__isnull=False)
                .order_by("-provider_time")
                .values_list("provider_time", flat=True)
                .first()
            )
            if last_applied and newest.provider_time and newest.provider_time < last_applied:
                # Everything still waiting is older than what was already applied.
                older.append(newest.id)
                result = "superseded"
            else:
                results = [
                    apply(instance=newest.instance, event=parsed, at=newest.received_at)
                    for parsed in parse(newest.payload, url_event=newest.event).events
                ]
                result = ",".join(results)[:64]
                finish(newest.id, status=WebhookEvent.Status.APPLIED, result=result)
                measure_applied(CONNECTION, result, newest.received_at)
            if older:
                WebhookEvent.objects.filter(id__in=older).update(
                    status=WebhookEvent.Status.SUPERSEDED, applied_at=timezone.now(), attempts=F("attempts") + 1
                )
        return result
    except Exception as exc:
        logger.exception("connection events of instance %s failed to apply", instance_id)
        WebhookEvent.objects.filter(instance_id=instance_id, event=CONNECTION, status__in=UNAPPLIED).update(
            status=WebhookEvent.Status.FAILED, error=f"{type(exc).__name__}: {exc}", attempts=F("attempts") + 1
        )
        return "failed"


def drain(*, batch: int = 200, budget_seconds: float = 30.0) -> int:
    """Apply pending events oldest first until none is left or the budget is spent; returns how many."""
    deadline = timezone.now() + timedelta(seconds=budget_seconds)
    applied, emptied = 0, False
    pending = WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING, provider__in=PROVIDERS).exclude(
        event=CONNECTION
    )
    while timezone.now() < deadline:
        ids = list(pending.order_by("id").values_list("id", flat=True)[:batch])
        if not ids and not emptied:
            # Let the next event wake another drainer, then look once more: an event stored
            # before the key went away is committed and seen here.
            client = get_redis()
            if client is not None:
                client.delete(drain_key())
            emptied = True
            continue
        if not ids:
            return applied
        emptied = False
        for event_id in ids:
            apply_event(event_id=event_id)
            applied += 1
    from webhooks.tasks import drain_webhook_events

    drain_webhook_events.delay()
    return applied


def schedule_settle(*, instance_id: int) -> None:
    """One settle per instance per window; later events of the window ride on it."""
    from webhooks.tasks import settle_connection_events

    delay = settings.WEBHOOKS_CONNECTION_SETTLE_SECONDS
    client = get_redis()
    if client is not None and not client.set(_settle_key(instance_id), 1, nx=True, ex=max(1, math.ceil(delay))):
        return
    transaction.on_commit(lambda: settle_connection_events.apply_async(args=[instance_id], countdown=delay))


def _settle_key(instance_id: int) -> str:
    return key("webhooks", "settle", instance_id)


def retry_unapplied(*, older_than_seconds: float | None = None, limit: int = 500) -> dict[str, int]:
    """Apply events left pending (a lost task) or failed (under the attempt limit); returns the results."""
    return replay(event_ids=unapplied_ids(providers=PROVIDERS, older_than_seconds=older_than_seconds, limit=limit))


def replay(*, event_ids, force: bool = False) -> dict[str, int]:
    """Apply the given events again; with `force`, applied ones too (applying is idempotent)."""
    if force:
        WebhookEvent.objects.filter(id__in=event_ids, status=WebhookEvent.Status.APPLIED).update(
            status=WebhookEvent.Status.PENDING
        )
    results: dict[str, int] = {}
    for event_id in event_ids:
        result = apply_event(event_id=event_id)
        results[result] = results.get(result, 0) + 1
    return results
