"""Evolution's durable intake: store an accepted event once, then apply it (now or in a worker).

The request path is: parse, then one statement that finds the instance, checks the
caller's credential and inserts the event unless it is a duplicate, then answer. On
PostgreSQL the requests a web process serves at the same time share that statement
and its commit (`webhooks.group_commit`, `webhooks.store.store_posted`); elsewhere it
is one indexed lookup and one INSERT. The stored rows are the queue: a drainer task
(woken through Redis, `webhooks.wakeup`) applies pending events in batches, or the
request applies its event itself when `WEBHOOKS_APPLY_IN_REQUEST` is set (and always
for the sandbox's events, which already come from a worker). An application that fails
leaves the row `failed` with its error; the sweep and `manage.py replay_webhooks` apply
it again (`webhooks.evolution.queue`).

QR codes (`qrcode.updated`) are the exception to durability: a code expires within a
minute, so it is kept in the cache for the connect page (`instances.qr_codes`) in the
request and never becomes a row, a task or a retry.
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from config import metrics
from core.redis import get_redis
from instances import qr_codes
from instances.models import WhatsAppInstance
from instances.queries import WebhookCaller, webhook_caller_by_name
from webhooks.auth import credential_matches
from webhooks.checked import BadPayload
from webhooks.evolution.parser import parse
from webhooks.evolution.queue import CONNECTION, apply_event, schedule_settle, settle_connection
from webhooks.group_commit import GroupCommit
from webhooks.intake import Outcome
from webhooks.models import WebhookEvent
from webhooks.store import PostedEvent, PostedResult, can_store_posted, payload_text, store, store_posted
from webhooks.wakeup import DrainWaker, schedule_drain

logger = logging.getLogger(__name__)

QR_CODE = "qrcode.updated"


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
