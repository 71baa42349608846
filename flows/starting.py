"""Starting a conversation: its first messages are sent now, then it is stored.

`start_conversation` is the exception to the claim-then-send order that the campaign
dispatcher needs: it calls the provider first and stores nothing if that first send is
refused, so a failed campaign send leaves no conversation behind. Its two halves are
public for the dispatcher: `send_start` (the provider calls) and `store_starts` (one
transaction for a whole batch of sent starts).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from flows import engine
from flows.models import Conversation, Flow, MessageHistory, ScheduledSend
from flows.sending import deliver
from flows.services import (
    end_active_pairs,
    initial_variables,
    outbound_history,
    queue_sends_on_commit,
    request_action,
    scheduled_send,
    set_position,
    signal_completed_on_commit,
)
from flows.specs import flow_spec
from flows.timeouts import arm_timers
from instances.providers.base import ProviderError, ProviderUnavailable, SendResult

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
        end_active_pairs([(started.contact.id, started.instance.id) for started in starts], now=now)
        Conversation.objects.bulk_create(conversations)
        arm_timers(conversations, now=now, fresh=True)
        for conversation, started in zip(conversations, starts, strict=True):
            if started.decision.action is not None and conversation.waiting_for == engine.WAIT_ACTION:
                request_action(conversation=conversation, request=started.decision.action)
                conversation.save(update_fields=["state"])
        MessageHistory.objects.bulk_create(
            [
                outbound_history(conversation, outgoing, result)
                for conversation, started in zip(conversations, starts, strict=True)
                for outgoing, result in started.sent
            ]
        )
        scheduled = []
        for conversation, started, later in zip(conversations, starts, pending, strict=True):
            scheduled += [
                scheduled_send(
                    conversation, outgoing, due_at=now + timedelta(seconds=outgoing.delay_seconds), sequence=i
                )
                for i, outgoing in enumerate(later)
            ]
            if started.failed is not None:
                scheduled.append(_failed_start_send(conversation, *started.failed, now=now))
        if scheduled:
            ScheduledSend.objects.bulk_create(scheduled)
            queue_sends_on_commit(scheduled)
        for conversation in conversations:
            if conversation.status == Conversation.Status.COMPLETED:
                signal_completed_on_commit(conversation)
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
    set_position(conversation, position, completed=decision.completed and started.failed is None, now=now)
    return conversation, later


def _failed_start_send(conversation, outgoing, exc, *, now) -> ScheduledSend:
    """A later message of a start that the provider refused: retried later, or recorded as failed."""
    send = scheduled_send(conversation, outgoing, due_at=now + timedelta(seconds=30), sequence=0)
    send.continues = True
    send.attempts = 1
    send.last_error = str(exc)[:500]
    if not isinstance(exc, ProviderUnavailable):
        send.status = ScheduledSend.Status.FAILED
        conversation.status = Conversation.Status.FAILED
        conversation.ended_at = now
    return send
