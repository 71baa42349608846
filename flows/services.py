"""Workflows of conversations: start one, apply the engine's decisions, end one.

Sending follows DESIGN's order: a decision is stored with its outgoing messages as
`ScheduledSend` rows and committed, then `flows.sending` claims each row and calls
the provider outside any transaction. `start_conversation` is the exception the
campaign dispatcher needs: it calls the provider first and stores nothing if that
first send is refused, so a failed campaign send leaves no conversation behind.
Its two halves are public for the dispatcher: `send_start` (the provider calls) and
`store_starts` (one transaction for a whole batch of sent starts).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from flows import engine
from flows.actions import request_action
from flows.models import Conversation, Flow, MessageHistory, ScheduledSend, Subflow
from flows.outbound import enqueue_conversation_completed
from flows.queries import flow_spec
from flows.signals import conversation_completed
from instances.providers.base import ProviderError, ProviderUnavailable, SendResult

logger = logging.getLogger(__name__)

# Scheduled sends due later than this are left to the beat sweep, not a countdown task.
MAX_COUNTDOWN_SECONDS = 300
_START_ATTEMPTS = 3


@dataclass
class StartedConversation:
    conversation: Conversation
    sent: list[SendResult] = field(default_factory=list)


@dataclass
class SentStart:
    """A start whose first message(s) went out and that is not stored yet (see `store_starts`)."""

    contact: object
    instance: object
    flow: Flow
    decision: engine.Decision
    sent: list[tuple[engine.Outgoing, SendResult]]
    failed: tuple[engine.Outgoing, ProviderError] | None = None
    external_ticket_id: str = ""
    external_contact_id: str = ""

    @property
    def results(self) -> list[SendResult]:
        return [result for _, result in self.sent]

    @property
    def provider_message_id(self) -> str:
        return self.sent[0][1].provider_message_id if self.sent else ""


def initial_variables(contact, variables: dict | None) -> dict:
    return {"name": contact.name, "phone": contact.phone, **(variables or {})}


def start_conversation(
    *,
    contact,
    instance,
    flow: Flow,
    variables: dict | None = None,
    external_ticket_id: str = "",
    external_contact_id: str = "",
) -> StartedConversation:
    """Start `contact` on `flow` through `instance`, sending the first message(s) now.

    Any active conversation of the contact on the instance is ended first. If the
    first send raises a provider error, nothing is stored and the error propagates.
    """
    started = send_start(
        contact=contact,
        instance=instance,
        flow=flow,
        variables=variables,
        external_ticket_id=external_ticket_id,
        external_contact_id=external_contact_id,
    )
    [conversation] = store_starts([started])
    return StartedConversation(conversation=conversation, sent=started.results)


def send_start(
    *,
    contact,
    instance,
    flow: Flow,
    variables: dict | None = None,
    external_ticket_id: str = "",
    external_contact_id: str = "",
) -> SentStart:
    """The first half of `start_conversation`: decide and send the first message(s); store nothing.

    A provider error on the first send propagates; one on a later send is kept for the store
    (that message is retried later, or recorded as failed). `store_starts` must follow.
    """
    from flows.sending import deliver

    decision = engine.start(flow_spec(flow), initial_variables(contact, variables))
    reply_to = external_contact_id or contact.phone
    started = SentStart(
        contact=contact,
        instance=instance,
        flow=flow,
        decision=decision,
        sent=[],
        external_ticket_id=external_ticket_id,
        external_contact_id=external_contact_id,
    )
    for outgoing in decision.outgoing:
        if outgoing.delay_seconds:
            continue
        try:
            started.sent.append((outgoing, deliver(instance=instance, phone=reply_to, outgoing=outgoing)))
        except ProviderError as exc:
            if not started.sent:
                raise
            started.failed = (outgoing, exc)
            break
    return started


def store_starts(starts: list[SentStart]) -> list[Conversation]:
    """The second half: store sent starts in one transaction; their conversations, in order.

    Each contact's active conversation on the instance is ended first. The campaign
    dispatcher stores a batch of starts at once; `start_conversation` stores one.
    """
    if not starts:
        return []
    attempt = 1
    while True:
        try:
            return _store_starts(starts)
        except IntegrityError:
            # Another start for one of these contacts won the "one active" constraint between
            # our end-others and insert; end it too (we have already sent) and retry.
            if attempt == _START_ATTEMPTS:
                raise
            attempt += 1


def _store_starts(starts: list[SentStart]) -> list[Conversation]:
    now = timezone.now()
    conversations, pending = [], []
    for started in starts:
        conversation, later = _new_conversation(started, now=now)
        conversations.append(conversation)
        pending.append(later)
    with transaction.atomic():
        _end_active([(started.contact.id, started.instance.id) for started in starts], now=now)
        Conversation.objects.bulk_create(conversations)
        for conversation, started in zip(conversations, starts, strict=True):
            if started.decision.action is not None and conversation.waiting_for == engine.WAIT_ACTION:
                request_action(conversation=conversation, request=started.decision.action)
                conversation.save(update_fields=["state"])
        MessageHistory.objects.bulk_create(
            [
                _outbound_history(conversation, outgoing, result)
                for conversation, started in zip(conversations, starts, strict=True)
                for outgoing, result in started.sent
            ]
        )
        scheduled = []
        for conversation, started, later in zip(conversations, starts, pending, strict=True):
            scheduled += [
                _scheduled_send(
                    conversation, outgoing, due_at=now + timedelta(seconds=outgoing.delay_seconds), sequence=i
                )
                for i, outgoing in enumerate(later)
            ]
            if started.failed is not None:
                scheduled.append(_failed_start_send(conversation, *started.failed, now=now))
        if scheduled:
            ScheduledSend.objects.bulk_create(scheduled)
            _queue_sends_on_commit(scheduled)
        for conversation in conversations:
            if conversation.status == Conversation.Status.COMPLETED:
                _signal_completed_on_commit(conversation)
    return conversations


def _new_conversation(started: SentStart, *, now) -> tuple[Conversation, list[engine.Outgoing]]:
    """The unsaved conversation of a sent start, and its outgoing messages still to schedule."""
    decision = started.decision
    conversation = Conversation(
        organization_id=started.contact.organization_id,
        contact=started.contact,
        instance=started.instance,
        flow=started.flow,
        external_ticket_id=started.external_ticket_id,
        external_contact_id=started.external_contact_id,
        variables=decision.variables,
        last_interaction_at=now,
        last_bot_message_at=now if started.sent else None,
    )
    later = [o for o in decision.outgoing if o.delay_seconds]
    if started.failed is not None:
        outgoing, _exc = started.failed
        position = engine.Position(outgoing.message.subflow_id, outgoing.message.id, engine.WAIT_DELAY)
        later = []
    else:
        position = decision.position
    _set_position(conversation, position, completed=decision.completed and started.failed is None, now=now)
    return conversation, later


def _failed_start_send(conversation, outgoing, exc, *, now) -> ScheduledSend:
    """A later message of a start that the provider refused: retried later, or recorded as failed."""
    send = _scheduled_send(conversation, outgoing, due_at=now + timedelta(seconds=30), sequence=0)
    send.continues = True
    send.attempts = 1
    send.last_error = str(exc)[:500]
    if not isinstance(exc, ProviderUnavailable):
        send.status = ScheduledSend.Status.FAILED
        conversation.status = Conversation.Status.FAILED
        conversation.ended_at = now
    return send


def end_active_conversations(*, contact_id: int, instance_id: int, now: datetime | None = None) -> int:
    """End the contact's active conversation on the instance (cancelling its pending sends)."""
    return _end_active([(contact_id, instance_id)], now=now or timezone.now())


def _end_active(pairs: list[tuple[int, int]], *, now: datetime) -> int:
    """End the active conversations of these (contact id, instance id) pairs: two statements for any number."""
    contacts_by_instance = defaultdict(list)
    for contact_id, instance_id in pairs:
        contacts_by_instance[instance_id].append(contact_id)
    match = reduce(
        or_,
        (Q(instance_id=instance_id, contact_id__in=ids) for instance_id, ids in contacts_by_instance.items()),
    )
    active = Conversation.objects.filter(match, status=Conversation.Status.ACTIVE)
    ScheduledSend.objects.filter(conversation__in=active, status=ScheduledSend.Status.PENDING).update(
        status=ScheduledSend.Status.CANCELLED
    )
    return active.update(status=Conversation.Status.ENDED, ended_at=now, waiting_for="")


@transaction.atomic
def end_conversation(*, conversation: Conversation) -> bool:
    """Close an active conversation (operator or ticket); False if it was no longer active."""
    now = timezone.now()
    changed = Conversation.objects.filter(id=conversation.id, status=Conversation.Status.ACTIVE).update(
        status=Conversation.Status.ENDED, ended_at=now, waiting_for=""
    )
    if changed:
        ScheduledSend.objects.filter(conversation_id=conversation.id, status=ScheduledSend.Status.PENDING).update(
            status=ScheduledSend.Status.CANCELLED
        )
        conversation.refresh_from_db(fields=["status", "ended_at", "waiting_for"])
    return bool(changed)


def apply_decision(
    *, conversation: Conversation, decision: engine.Decision, now: datetime, not_before: datetime | None = None
) -> list[ScheduledSend]:
    """Store `decision` on an active conversation (inside the caller's transaction).

    Returns the `ScheduledSend` rows created; those due now are for the caller to send
    after commit, later ones get a countdown task on commit. `not_before` holds the
    first send back (the bot's cooldown between replies).
    """
    if decision.changes_position:
        # The conversation moved: a delayed message still pending belongs to where it was.
        ScheduledSend.objects.filter(conversation_id=conversation.id, status=ScheduledSend.Status.PENDING).update(
            status=ScheduledSend.Status.CANCELLED
        )
        _set_position(conversation, decision.position, completed=decision.completed, now=now)
    conversation.variables = decision.variables
    conversation.last_interaction_at = now
    if decision.action is not None:
        request_action(conversation=conversation, request=decision.action)
    conversation.save(
        update_fields=[
            "subflow",
            "current_message",
            "waiting_for",
            "variables",
            "state",
            "status",
            "completed_at",
            "last_interaction_at",
        ]
    )
    start_at = max(now, not_before) if not_before else now
    scheduled = [
        _scheduled_send(conversation, outgoing, due_at=start_at + timedelta(seconds=outgoing.delay_seconds), sequence=i)
        for i, outgoing in enumerate(decision.outgoing)
    ]
    if scheduled:
        ScheduledSend.objects.bulk_create(scheduled)
        _queue_sends_on_commit([s for s in scheduled if s.due_at > now])
    if conversation.status == Conversation.Status.COMPLETED:
        _signal_completed_on_commit(conversation)
    return scheduled


def _set_position(conversation: Conversation, position: engine.Position | None, *, completed: bool, now) -> None:
    if completed or position is None:
        conversation.status = Conversation.Status.COMPLETED if completed else conversation.status
        conversation.completed_at = now if completed else conversation.completed_at
        conversation.waiting_for = ""
        return
    conversation.subflow_id = position.subflow_id
    conversation.current_message_id = position.message_id
    conversation.waiting_for = position.waiting


def position_of(conversation: Conversation) -> engine.Position | None:
    if conversation.subflow_id is None or conversation.current_message_id is None:
        return None
    return engine.Position(conversation.subflow_id, conversation.current_message_id, conversation.waiting_for)


def _scheduled_send(conversation, outgoing: engine.Outgoing, *, due_at, sequence: int) -> ScheduledSend:
    return ScheduledSend(
        conversation=conversation,
        flow_message_id=outgoing.message.id if outgoing.message else None,
        text=outgoing.text,
        continues=outgoing.continues,
        due_at=due_at,
        sequence=sequence,
    )


def _outbound_history(conversation, outgoing: engine.Outgoing, result: SendResult) -> MessageHistory:
    message = outgoing.message
    return MessageHistory(
        organization_id=conversation.organization_id,
        conversation=conversation,
        contact_id=conversation.contact_id,
        instance_id=conversation.instance_id,
        direction=MessageHistory.Direction.OUTBOUND,
        message_type=message.message_type if message else "text",
        text=outgoing.text,
        media_url=message.media_url if message else "",
        flow_message_id=message.id if message else None,
        provider_message_id=result.provider_message_id,
    )


def _queue_sends_on_commit(scheduled: list[ScheduledSend]) -> None:
    from flows.tasks import send_scheduled

    for send in scheduled:
        if send.status != ScheduledSend.Status.PENDING:
            continue
        countdown = max(0.0, (send.due_at - timezone.now()).total_seconds())
        if countdown <= MAX_COUNTDOWN_SECONDS:
            send_id = send.id
            transaction.on_commit(
                lambda send_id=send_id, c=countdown: send_scheduled.apply_async((send_id,), countdown=c)
            )


def _signal_completed_on_commit(conversation: Conversation) -> None:
    enqueue_conversation_completed(conversation=conversation)
    transaction.on_commit(lambda: conversation_completed.send(sender=Conversation, conversation=conversation))


def bump_flow_version(sender, instance, **kwargs) -> None:
    """A subflow or message changed: the engine's cached spec of its flow is stale."""
    flow_id = instance.flow_id if isinstance(instance, Subflow) else None
    if flow_id is None:
        flow_id = Subflow.objects.filter(id=instance.subflow_id).values_list("flow_id", flat=True).first()
    if flow_id is not None:
        Flow.objects.filter(id=flow_id).update(content_version=F("content_version") + 1)


def handle_inbound_message(
    *,
    instance,
    contact,
    text: str = "",
    media: engine.Media | None = None,
    provider_message_id: str = "",
    external_ticket_id: str = "",
    external_contact_id: str = "",
    ticket_status: str = "",
    ticket_user_id: str = "",
):
    """The entry point of every provider's inbound message (see `flows.inbound`)."""
    from flows.inbound import handle_inbound_message as handle

    return handle(
        instance=instance,
        contact=contact,
        text=text,
        media=media,
        provider_message_id=provider_message_id,
        external_ticket_id=external_ticket_id,
        external_contact_id=external_contact_id,
        ticket_status=ticket_status,
        ticket_user_id=ticket_user_id,
    )
