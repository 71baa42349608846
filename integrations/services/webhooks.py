"""Outbound webhooks: the outbox, its fan-out to subscriptions, signed deliveries with retries.

Callers enqueue events in the transaction of the change they report (`enqueue_event`,
`enqueue_events_from`); nothing here is called on a request path. The drainer
(`integrations.tasks.drain_webhooks`, on beat and after enqueues) fans new events out
into deliveries, claims due deliveries in batches (`SKIP LOCKED`), posts each one signed
(`integrations.signing`), logs every attempt, and retries failures with exponential
backoff until a day has passed; a delivery still failing then disables its subscription.
Delivery is at least once: receivers deduplicate on the event id.
"""

import json
import logging
import random
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from integrations import http, signing
from integrations.errors import IntegrationError
from integrations.models import DeliveryAttempt, OutboundEvent, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

_SUBSCRIBED_KEY = "integrations:subscribed-organizations"
_GENERATION_KEY = "integrations:subscriptions-generation"
_CACHE_SECONDS = 300


# Subscriptions -----------------------------------------------------------------------


@transaction.atomic
def create_subscription(*, organization, url: str, events: list, **fields) -> tuple[WebhookSubscription, str]:
    subscription = WebhookSubscription(organization=organization, url=url, events=list(events), **fields)
    secret = subscription.new_secret()
    subscription.full_clean(exclude=["organization"])
    subscription.save()
    return subscription, secret


@transaction.atomic
def update_subscription(*, subscription: WebhookSubscription, **fields) -> WebhookSubscription:
    for name, value in fields.items():
        setattr(subscription, name, value)
    if fields.get("is_active"):
        subscription.disabled_at, subscription.disabled_reason = None, ""
    subscription.full_clean(exclude=["organization"])
    subscription.save()
    return subscription


def rotate_secret(*, subscription: WebhookSubscription) -> str:
    secret = subscription.new_secret()
    subscription.save(update_fields=["secret_encrypted", "secret_hint"])
    return secret


def forget_subscriptions(organization_id: int | None = None) -> None:
    """Drop the cached subscriptions of one organization, or of all of them."""
    if organization_id is None:
        cache.set(_GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        cache.delete(_SUBSCRIBED_KEY)
    else:
        cache.delete_many([_SUBSCRIBED_KEY, _organization_key(organization_id)])


def subscription_changed(sender, instance: WebhookSubscription, **kwargs) -> None:
    """post_save / post_delete: forget now, and again after commit (a reader may refill in between)."""
    organization_id = instance.organization_id
    forget_subscriptions(organization_id)
    transaction.on_commit(lambda: forget_subscriptions(organization_id))


def _organization_key(organization_id: int) -> str:
    return f"integrations:subscribed:{organization_id}"


def organization_subscribes(organization_id: int, event_type: str) -> bool:
    """Whether one organization has an active subscription to `event_type`: one cache round trip.

    Another organization's subscriptions cost this one nothing; the entry is refilled by an
    indexed query on the organization's own subscriptions after any change to them.
    """
    org_key = _organization_key(organization_id)
    cached = cache.get_many([_GENERATION_KEY, org_key])
    generation, entry = cached.get(_GENERATION_KEY), cached.get(org_key)
    if generation is None:
        cache.add(_GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = cache.get(_GENERATION_KEY)
    if entry is None or entry[0] != generation:
        events = set()
        subscriptions = WebhookSubscription.objects.filter(organization_id=organization_id, is_active=True)
        for subscribed in subscriptions.values_list("events", flat=True):
            events.update(subscribed or [])
        entry = (generation, frozenset(events))
        cache.set(org_key, entry, timeout=_CACHE_SECONDS)
    return event_type in entry[1]


def subscribed_organization_ids(event_type: str) -> set[int]:
    """Organizations with an active subscription to `event_type` (cached, dropped on any change)."""
    by_event = cache.get(_SUBSCRIBED_KEY)
    if by_event is None:
        by_event = {}
        for organization_id, events in WebhookSubscription.objects.filter(is_active=True).values_list(
            "organization_id", "events"
        ):
            for event in events or []:
                by_event.setdefault(event, set()).add(organization_id)
        cache.set(_SUBSCRIBED_KEY, by_event, timeout=_CACHE_SECONDS)
    return by_event.get(event_type, set())


# The outbox ----------------------------------------------------------------------------


def enqueue_event(*, organization_id: int, type: str, key: str, payload: dict, occurred_at=None) -> bool:
    """Write one event if its organization subscribes to it; a second call with the same key is a no-op."""
    if not organization_subscribes(organization_id, type):
        return False
    created = OutboundEvent.objects.bulk_create(
        [
            OutboundEvent(
                organization_id=organization_id,
                type=type,
                key=key,
                payload=payload,
                occurred_at=occurred_at or timezone.now(),
            )
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(queue_drain)
    return bool(created)


def enqueue_events_from(queryset) -> int:
    """One `INSERT … SELECT` of events; `queryset` gives (organization_id, type, key, payload, occurred_at)."""
    select_sql, params = queryset.query.sql_with_params()
    table = OutboundEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (organization_id, type, key, payload, occurred_at, created_at) "
            f"SELECT q.*, %s FROM ({select_sql}) q WHERE true ON CONFLICT DO NOTHING",
            [timezone.now(), *params],
        )
        count = cursor.rowcount
    return count


def queue_drain() -> None:
    from integrations.tasks import drain_webhooks

    drain_webhooks.delay()


# The drainer ---------------------------------------------------------------------------


def fan_out(*, limit: int = 500) -> int:
    """Turn new events into one pending delivery per active subscription to their type."""
    now = timezone.now()
    with transaction.atomic():
        events = list(
            OutboundEvent.objects.select_for_update(skip_locked=True).filter(fanned_out_at=None).order_by("id")[:limit]
        )
        if not events:
            return 0
        subscriptions = list(
            WebhookSubscription.objects.filter(organization_id__in={e.organization_id for e in events}, is_active=True)
        )
        give_up = now + timedelta(hours=settings.INTEGRATIONS_WEBHOOK_RETRY_HOURS)
        deliveries = [
            WebhookDelivery(subscription=s, event=e, next_attempt_at=now, give_up_at=give_up)
            for e in events
            for s in subscriptions
            if s.organization_id == e.organization_id and e.type in (s.events or [])
        ]
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        OutboundEvent.objects.filter(id__in=[e.id for e in events]).update(fanned_out_at=now)
    return len(deliveries)


def claim_due(*, limit: int) -> list[WebhookDelivery]:
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, subscription__is_active=True)
            .order_by("next_attempt_at", "id")[:limit]
        )
        if rows:
            WebhookDelivery.objects.filter(id__in=[r.id for r in rows]).update(
                status=WebhookDelivery.Status.DELIVERING, claimed_at=now, attempts=F("attempts") + 1
            )
    return list(
        WebhookDelivery.objects.select_related("event", "subscription").filter(
            id__in=[r.id for r in rows], status=WebhookDelivery.Status.DELIVERING
        )
    )


def body_of(event: OutboundEvent) -> bytes:
    document = {
        "id": event.public_id,
        "type": event.type,
        "created_at": event.occurred_at.isoformat(),
        "data": event.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def deliver(delivery: WebhookDelivery) -> bool:
    """Post one claimed delivery, log the attempt, and settle it (delivered, retried, or failed)."""
    event, subscription = delivery.event, delivery.subscription
    body = body_of(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "WhatsFlow-Webhooks/1",
        "WhatsFlow-Event-Id": event.public_id,
        "WhatsFlow-Event": event.type,
        signing.HEADER: signing.sign(subscription.secret, body, int(time.time())),
    }
    status_code, error, excerpt, latency = None, "", "", None
    started = time.monotonic()
    try:
        answer = http.request(
            "POST", subscription.url, headers=headers, data=body, timeout=settings.INTEGRATIONS_WEBHOOK_TIMEOUT
        )
    except IntegrationError as exc:
        error = str(exc)[:500]
        latency = int((time.monotonic() - started) * 1000)
    else:
        status_code, latency = answer.status, answer.latency_ms
        excerpt = answer.content[:500].decode("utf-8", "replace")
        if not answer.ok:
            error = f"HTTP {answer.status}"
    succeeded = not error
    now = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            status_code=status_code,
            succeeded=succeeded,
            latency_ms=latency,
            error=error,
            response_excerpt=excerpt,
        )
        mine = WebhookDelivery.objects.filter(id=delivery.id, status=WebhookDelivery.Status.DELIVERING)
        if succeeded:
            mine.update(
                status=WebhookDelivery.Status.DELIVERED, delivered_at=now, last_status_code=status_code, last_error=""
            )
        elif now >= delivery.give_up_at:
            mine.update(status=WebhookDelivery.Status.FAILED, last_status_code=status_code, last_error=error)
            disable_subscription(
                subscription=subscription,
                reason=f"Event {event.public_id} still failed after {delivery.attempts} attempts over "
                f"{settings.INTEGRATIONS_WEBHOOK_RETRY_HOURS}h: {error}",
            )
        else:
            mine.update(
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at=now + timedelta(seconds=backoff_seconds(delivery.attempts)),
                last_status_code=status_code,
                last_error=error,
            )
    return succeeded


def backoff_seconds(attempts: int) -> float:
    """base * 2^(n-1), at most max, ±20% so that a receiver coming back is not hit all at once."""
    base, ceiling = settings.INTEGRATIONS_WEBHOOK_RETRY_BASE_SECONDS, settings.INTEGRATIONS_WEBHOOK_RETRY_MAX_SECONDS
    delay = min(ceiling, base * 2 ** max(attempts - 1, 0))
    return delay * random.uniform(0.8, 1.2)


def disable_subscription(*, subscription: WebhookSubscription, reason: str) -> bool:
    disabled = WebhookSubscription.objects.filter(id=subscription.id, is_active=True).update(
        is_active=False, disabled_at=timezone.now(), disabled_reason=reason[:500]
    )
    if disabled:
        logger.warning("webhook subscription %s (%s) disabled: %s", subscription.id, subscription.url, reason)
        transaction.on_commit(lambda: forget_subscriptions(subscription.organization_id))
    return bool(disabled)


def expire_leases() -> int:
    """Deliveries a dead worker left `delivering` go back to pending (delivery is at least once)."""
    cutoff = timezone.now() - timedelta(seconds=settings.INTEGRATIONS_WEBHOOK_LEASE_SECONDS)
    return WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERING, claimed_at__lt=cutoff).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now()
    )


def drain(*, budget_seconds: float | None = None) -> int:
    """Fan out, then deliver due batches until none is left or the budget is spent; how many were posted."""
    budget = settings.INTEGRATIONS_WEBHOOK_DRAIN_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    expire_leases()
    posted = 0
    while True:
        fan_out()
        batch = claim_due(limit=settings.INTEGRATIONS_WEBHOOK_BATCH_SIZE)
        if not batch:
            return posted
        for delivery in batch:
            deliver(delivery)
            posted += 1
        if time.monotonic() > deadline:
            return posted


def replay_deliveries(*, delivery_ids: list[int]) -> int:
    """Send these deliveries again (whatever they ended as), with a fresh day of retries."""
    now = timezone.now()
    with transaction.atomic():
        count = WebhookDelivery.objects.filter(
            id__in=delivery_ids, status__in=[WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED]
        ).update(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at=now,
            give_up_at=now + timedelta(hours=settings.INTEGRATIONS_WEBHOOK_RETRY_HOURS),
        )
        transaction.on_commit(queue_drain)
    return count
