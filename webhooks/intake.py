"""Durable intake: store an accepted event once, then apply it (now or in a worker).

The request path is: parse, then one statement that finds the instance, checks the
caller's credential and inserts the event unless it is a duplicate, then answer. On
PostgreSQL the requests a web process serves at the same time share that statement
and its commit (`webhooks.group_commit`, `webhooks.store.store_posted`); elsewhere it
is one indexed lookup and one INSERT. The stored rows are the queue: a drainer task
(woken through Redis, `webhooks.wakeup`) applies pending events in batches, or the
request applies its event itself when `WEBHOOKS_APPLY_IN_REQUEST` is set (and always
for the sandbox's events, which already come from a worker). An application that fails
leaves the row `failed` with its error; the sweep and `manage.py replay_webhooks` apply
it again.

Connection events are coalesced: a storm of close/connecting/open is stored row by
row, and one settle a few seconds later applies only the newest by the provider's
clock, so executions do not flap and the logs get one entry.

QR codes (`qrcode.updated`) are the exception to durability: a code expires within a
minute, so it is kept in the cache for the connect page (`instances.qr_codes`) in the
request and never becomes a row, a task or a retry.
"""

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from config import logfmt, metrics
from config.redis import get_redis, key
from instances import qr_codes
from instances.models import WhatsAppInstance
from instances.queries import WebhookCaller, webhook_caller_by_name
from webhooks.apply import NotRecordedYet, apply
from webhooks.auth import credential_matches
from webhooks.group_commit import GroupCommit
from webhooks.models import WebhookEvent
from webhooks.parsers.checked import BadPayload
from webhooks.parsers.evolution import parse
from webhooks.store import PostedEvent, PostedResult, can_store_posted, payload_text, store, store_posted
from webhooks.wakeup import DrainWaker, drain_key, schedule_drain

logger = logging.getLogger(__name__)

UNAPPLIED = [WebhookEvent.Status.PENDING, WebhookEvent.Status.FAILED]
DEFERRED = "deferred"  # kept for the retry of unapplied events (`webhooks.apply.NotRecordedYet`)
CONNECTION = "connection.update"
QR_CODE = "qrcode.updated"


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


def receive(
    *,
    instance,
    payload: dict,
    url_event: str = "",
    provider: str = WebhookEvent.Provider.EVOLUTION,
    apply_now: bool | None = None,
    body: bytes | None = None,
) -> Outcome:
    """Store the event unless it is a duplicate, and apply it; raises BadPayload for a broken shape.

    `instance` needs only `id` and `organization_id` (`instances.queries.WebhookCaller`);
    `body`, the bytes `payload` was parsed from, is stored as it came.
    """
    parsed = parse(payload, url_event=url_event)
    if parsed.ignored:
        return Outcome("ignored", reason=parsed.ignored)
    if parsed.event == QR_CODE:
        return keep_qr_code(instance_id=instance.id, parsed=parsed)
    event_id = store(instance=instance, provider=provider, name=parsed.event, payload=payload, parsed=parsed, body=body)
    if event_id is not None:
        metrics.observe_lag(provider=provider, received_at=timezone.now(), provider_time=parsed.provider_time)
    if _drains(event=parsed.event, event_id=event_id, apply_now=apply_now):
        schedule_drain(event_ids=[event_id])
    return _after_store(instance_id=instance.id, parsed=parsed, event_id=event_id, apply_now=apply_now)


class UnknownInstance(Exception):
    """No instance has the name the payload gives."""


class BadCredential(Exception):
    """The instance exists, but the secret or API key that came with the event is not its own."""


def receive_posted(
    *, instance_name: str, credential: str, by_api_key: bool, payload: dict, url_event: str = "", body: bytes
) -> Outcome:
    """The Evolution endpoint's intake: authenticate the caller, store the event once, apply it.

    Raises UnknownInstance, BadCredential, or BadPayload for a broken shape (checked after
    the caller, so a stranger learns nothing about payloads). On PostgreSQL the events
    that concurrent requests post are stored together (`webhooks.store.store_posted`).
    """
    try:
        parsed = parse(payload, url_event=url_event)
    except BadPayload:
        authenticate(instance_name=instance_name, credential=credential, by_api_key=by_api_key)
        raise
    if parsed.ignored or parsed.event == QR_CODE or not credential or not can_store_posted():
        caller = authenticate(instance_name=instance_name, credential=credential, by_api_key=by_api_key)
        return receive(instance=caller, payload=payload, url_event=url_event, body=body)
    posted = PostedEvent(
        instance_name=instance_name,
        credential=credential,
        by_api_key=by_api_key,
        event=parsed.event,
        payload=payload_text(payload, body),
        dedupe_key=parsed.dedupe_key,
        provider_time=parsed.provider_time,
        received_at=timezone.now(),
    )
    if connection.in_atomic_block:
        # Another request's row must not join the caller's transaction: a batch of one.
        results = _store_posted_batch([posted])
        if new := _new_events([posted], results):
            schedule_drain(event_ids=new)  # after the caller's commit
        result = results[0]
    else:
        result = _posted_batches.submit(posted)
    if result.caller is None:
        raise UnknownInstance(instance_name)
    if not result.authenticated:
        raise BadCredential(instance_name)
    if result.event_id is not None:
        metrics.observe_lag(provider="evolution", received_at=posted.received_at, provider_time=parsed.provider_time)
    return _after_store(instance_id=result.caller.id, parsed=parsed, event_id=result.event_id)


def keep_qr_code(*, instance_id: int, parsed) -> Outcome:
    """Hand a pushed QR code to the connect page; "kept", or ignored when the cache is down."""
    (code,) = parsed.events
    if qr_codes.keep_pushed(instance_id=instance_id, qr=code.qr, pairing_code=code.pairing_code) is None:
        return Outcome("ignored", reason="qr code not kept: the cache is unavailable")
    return Outcome("kept")


def authenticate(*, instance_name: str, credential: str, by_api_key: bool) -> WebhookCaller:
    """The named instance if the credential is its own (one indexed query); raises otherwise."""
    caller = webhook_caller_by_name(instance_name, credential=credential, by_api_key=by_api_key)
    if caller is None:
        raise UnknownInstance(instance_name)
    if not credential_matches(credential, caller.api_key if by_api_key else caller.webhook_secret):
        raise BadCredential(instance_name)
    return caller


def _store_posted_batch(events: list[PostedEvent]) -> list[PostedResult]:
    """One statement for the batch (the name is looked up at each call, so tests can watch it)."""
    return store_posted(events)


def _drains(*, event: str, event_id: int | None, apply_now: bool | None = None) -> bool:
    """Whether the drainer must apply this event: a new row, not applied now, not a connection event (settled)."""
    return event_id is not None and event != CONNECTION and not _applies_now(apply_now)


def _new_events(events: list[PostedEvent], results: list[PostedResult]) -> list[int]:
    """The ids of a batch the drainer must apply."""
    pairs = zip(results, events, strict=True)
    return [result.event_id for result, event in pairs if _drains(event=event.event, event_id=result.event_id)]


def _wake_drainer(events: list[PostedEvent], results: list[PostedResult]) -> None:
    """After a batch committed in autocommit: the process's waker makes the attempt."""
    new = _new_events(events, results)
    if new and get_redis() is None:
        schedule_drain(event_ids=new)
    elif new:
        _drain_waker.ask()


_drain_waker = DrainWaker()


def _may_be_one_events_fault(error: BaseException) -> bool:
    """A failed batch is retried event by event unless the database itself is unreachable."""
    return isinstance(error, Exception) and not isinstance(error, OperationalError | InterfaceError)


_posted_batches = GroupCommit(_store_posted_batch, after=_wake_drainer, isolate=_may_be_one_events_fault)


def _applies_now(apply_now: bool | None) -> bool:
    return settings.WEBHOOKS_APPLY_IN_REQUEST if apply_now is None else apply_now


def _after_store(*, instance_id: int, parsed, event_id: int | None, apply_now: bool | None = None) -> Outcome:
    if event_id is None:
        return Outcome("duplicate")
    if parsed.event == CONNECTION:
        if _applies_now(apply_now):
            return Outcome(settle_connection(instance_id=instance_id), event_id)
        schedule_settle(instance_id=instance_id)
        return Outcome("accepted", event_id)
    if _applies_now(apply_now):
        return Outcome(apply_event(event_id=event_id), event_id)
    return Outcome("accepted", event_id)


def apply_event(*, event_id: int) -> str:
    """Apply a stored event once; returns its result ("failed" when it raised, kept for retry)."""
    row = WebhookEvent.objects.filter(id=event_id).values_list("event", "instance_id").first()
    if row is None:
        return "gone"
    if row[0] == CONNECTION:
        return settle_connection(instance_id=row[1])
    try:
        with transaction.atomic():
            event = (
                WebhookEvent.objects.select_for_update(of=("self",))
                .select_related("instance__organization")
                .filter(id=event_id, status__in=UNAPPLIED)
                .first()
            )
            if event is None:
                return WebhookEvent.objects.filter(id=event_id).values_list("result", flat=True).first() or "gone"
            with logfmt.bound(organization_id=event.organization_id, instance_id=event.instance_id):
                results = [
                    apply(instance=event.instance, event=parsed, at=event.received_at)
                    for parsed in parse(event.payload, url_event=event.event).events
                ]
            result = ",".join(dict.fromkeys(results))[:64]
            _finish(event_id, status=WebhookEvent.Status.APPLIED, result=result)
            _measure_applied(event.event, result, event.received_at)
        return result
    except NotRecordedYet as exc:
        metrics.WEBHOOK_EVENTS.labels(row[0], DEFERRED).inc()
        logger.info("webhook event %s deferred: %s", event_id, exc)
        _finish(event_id, status=WebhookEvent.Status.FAILED, result=DEFERRED, error=str(exc))
        return DEFERRED
    except Exception as exc:
        metrics.WEBHOOK_EVENTS.labels(row[0], "failed").inc()
        logger.exception("webhook event %s failed to apply", event_id)
        _finish(event_id, status=WebhookEvent.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        return "failed"


def _measure_applied(event: str, result: str, received_at) -> None:
    """After commit: the event counted by type and result, its wait from storage to application."""

    def count():
        metrics.WEBHOOK_EVENTS.labels(event, result).inc()
        metrics.WEBHOOK_DRAIN_SECONDS.labels(event).observe(max(0.0, (timezone.now() - received_at).total_seconds()))

    transaction.on_commit(count)


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
                _finish(newest.id, status=WebhookEvent.Status.APPLIED, result=result)
                _measure_applied(CONNECTION, result, newest.received_at)
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
    pending = WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING).exclude(event=CONNECTION)
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
    if older_than_seconds is None:
        older_than_seconds = settings.WEBHOOKS_RETRY_AFTER_SECONDS
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        WebhookEvent.objects.filter(
            status__in=UNAPPLIED, received_at__lt=cutoff, attempts__lt=settings.WEBHOOKS_MAX_ATTEMPTS
        )
        .order_by("received_at")
        .values_list("id", flat=True)[:limit]
    )
    return replay(event_ids=ids)


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


def accept_sandbox_payload(payload: dict) -> Outcome:
    """`SANDBOX_EVENT_SINK`: the sandbox's simulated Evolution webhooks, applied at once."""
    name = payload.get("instance") or ""
    instance = (
        WhatsAppInstance.objects.select_related("organization")
        .filter(instance_name=name, provider=WhatsAppInstance.Provider.SANDBOX)
        .first()
    )
    if instance is None and name.startswith("sandbox-") and name[8:].isdigit():
        instance = WhatsAppInstance.objects.select_related("organization").filter(id=int(name[8:])).first()
    if instance is None:
        logger.info("sandbox event for unknown instance %r dropped", name)
        return Outcome("unknown_instance")
    return receive(instance=instance, payload=payload, provider=WebhookEvent.Provider.SANDBOX, apply_now=True)


def _finish(event_id: int, *, status: str, result: str = "", error: str = "") -> None:
    WebhookEvent.objects.filter(id=event_id).update(
        status=status,
        result=result,
        error=error,
        attempts=F("attempts") + 1,
        applied_at=timezone.now() if status == WebhookEvent.Status.APPLIED else None,
    )
