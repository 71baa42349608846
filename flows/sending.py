"""Sending the bot's messages: claim a `ScheduledSend`, commit, call the provider, record.

A row is claimed (`SELECT … FOR UPDATE SKIP LOCKED`, then a conditional UPDATE to
`sending`) before the provider is called, so a task that runs twice or a sweep racing
a countdown sends it once. A row left in `sending` by a dead worker becomes `unknown`
after its lease: it is never re-sent blindly. Only `ProviderUnavailable` is retried.
"""

import logging
import mimetypes
from datetime import timedelta
from urllib.parse import urlparse

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from flows import engine
from flows.models import Conversation, MessageHistory, ScheduledSend
from flows.services import apply_decision, outbound_history, position_of
from flows.specs import flow_spec, message_spec
from instances import services as instance_services
from instances.providers.base import (
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderUnavailable,
    SendResult,
)
from instances.providers.choices import Choice, Option

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_BACKOFF_SECONDS = (30, 60, 120, 300, 600)
LEASE_SECONDS = 300


def deliver(*, instance, phone: str, outgoing: engine.Outgoing) -> SendResult:
    """Send one message through the instance's provider (text, or media with its caption)."""
    message = outgoing.message
    if message is not None and message.choice is not None:
        return instance_services.send_choice(instance=instance, phone=phone, choice=provider_choice(outgoing))
    if message is None or message.message_type == "text" or not message.media_url:
        return instance_services.send_text(instance=instance, phone=phone, text=outgoing.text)
    filename = urlparse(message.media_url).path.rsplit("/", 1)[-1]
    return instance_services.send_media(
        instance=instance,
        phone=phone,
        url=message.media_url,
        caption=outgoing.text,
        filename=filename,
        mimetype=mimetypes.guess_type(filename)[0] or "",
    )


def provider_choice(outgoing: engine.Outgoing) -> Choice:
    """The provider's view of a choice step's message: its rendered prompt and its options."""
    choice = outgoing.message.choice
    options = tuple(Option(o.key, o.label, o.description) for o in choice.options)
    return Choice(prompt=outgoing.text, options=options, list_button=choice.list_button)


def send_scheduled(*, send_id: int) -> str:
    """Send one due row if it can be claimed; returns what happened (for logs and tests)."""
    row = _claim(send_id)
    if row is None:
        return "not_claimed"
    conversation = row.conversation
    # A completed conversation still sends its last messages; an ended or failed one does not.
    if conversation.status in (Conversation.Status.ENDED, Conversation.Status.FAILED):
        ScheduledSend.objects.filter(id=row.id, status=ScheduledSend.Status.SENDING).update(
            status=ScheduledSend.Status.CANCELLED
        )
        return "cancelled"
    outgoing = engine.Outgoing(
        text=row.text, message=message_spec(row.flow_message) if row.flow_message else None, continues=row.continues
    )
    try:
        result = deliver(instance=conversation.instance, phone=conversation.reply_to, outgoing=outgoing)
    except ProviderUnavailable as exc:
        if row.attempts < MAX_ATTEMPTS:
            _retry_later(row, exc)
            return "retry"
        _give_up(row, exc, status=ScheduledSend.Status.FAILED)
        return "failed"
    except ProviderOutcomeUnknown as exc:
        _give_up(row, exc, status=ScheduledSend.Status.UNKNOWN)
        return "unknown"
    except ProviderError as exc:
        _give_up(row, exc, status=ScheduledSend.Status.FAILED)
        return "failed"
    _record_sent(row, outgoing, result)
    send_due_for_conversation(conversation_id=conversation.id)
    return "sent"


def send_due_for_conversation(*, conversation_id: int) -> int:
    """Send, in order, the conversation's rows that are due now."""
    due = list(
        ScheduledSend.objects.filter(
            conversation_id=conversation_id, status=ScheduledSend.Status.PENDING, due_at__lte=timezone.now()
        )
        .order_by("id")
        .values_list("id", flat=True)[:1]
    )
    sent = 0
    for send_id in due:
        sent += send_scheduled(send_id=send_id) == "sent"
    return sent


def send_due(*, limit: int = 200) -> int:
    """The beat sweep: expire dead leases, then send what is due (oldest first)."""
    expire_leases()
    due = (
        ScheduledSend.objects.filter(status=ScheduledSend.Status.PENDING, due_at__lte=timezone.now())
        .order_by("due_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    return sum(send_scheduled(send_id=send_id) == "sent" for send_id in list(due))


def expire_leases() -> int:
    cutoff = timezone.now() - timedelta(seconds=LEASE_SECONDS)
    stuck = ScheduledSend.objects.filter(status=ScheduledSend.Status.SENDING, claimed_at__lt=cutoff)
    conversation_ids = list(stuck.values_list("conversation_id", flat=True))
    count = stuck.update(status=ScheduledSend.Status.UNKNOWN, last_error="The worker died while sending.")
    if conversation_ids:
        Conversation.objects.filter(id__in=conversation_ids, status=Conversation.Status.ACTIVE).update(
            status=Conversation.Status.FAILED, ended_at=timezone.now()
        )
    return count


def _claim(send_id: int) -> ScheduledSend | None:
    now = timezone.now()
    with transaction.atomic():
        row = (
            ScheduledSend.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("conversation__contact", "conversation__instance", "flow_message")
            .filter(id=send_id, status=ScheduledSend.Status.PENDING, due_at__lte=now)
            .first()
        )
        if row is None:
            return None
        # Keep the flow's order: an earlier message of the conversation still unsent goes first.
        earlier = ScheduledSend.objects.filter(
            conversation_id=row.conversation_id,
            status__in=[ScheduledSend.Status.PENDING, ScheduledSend.Status.SENDING],
            id__lt=row.id,
            due_at__lte=row.due_at,
        )
        if earlier.exists():
            return None
        claimed = ScheduledSend.objects.filter(id=row.id, status=ScheduledSend.Status.PENDING).update(
            status=ScheduledSend.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        if claimed != 1:
            return None
    row.attempts += 1
    row.status = ScheduledSend.Status.SENDING
    return row


def _record_sent(row: ScheduledSend, outgoing: engine.Outgoing, result: SendResult) -> None:
    now = timezone.now()
    with transaction.atomic():
        ScheduledSend.objects.filter(id=row.id, status=ScheduledSend.Status.SENDING).update(
            status=ScheduledSend.Status.SENT, sent_at=now
        )
        conversation = (
            Conversation.objects.select_for_update(of=("self",)).select_related("flow").get(id=row.conversation_id)
        )
        MessageHistory.objects.create(**_history_fields(outbound_history(conversation, outgoing, result)))
        conversation.last_bot_message_at = now
        conversation.save(update_fields=["last_bot_message_at"])
        at_this_message = (
            conversation.current_message_id == row.flow_message_id and conversation.waiting_for == engine.WAIT_DELAY
        )
        if row.continues and conversation.status == Conversation.Status.ACTIVE and at_this_message:
            if conversation.flow is None:
                return
            decision = engine.after_delayed_send(
                flow_spec(conversation.flow), position_of(conversation), conversation.variables
            )
            apply_decision(conversation=conversation, decision=decision, now=now)


def _history_fields(history: MessageHistory) -> dict:
    return {f.attname: getattr(history, f.attname) for f in MessageHistory._meta.concrete_fields if f.attname != "id"}


def _retry_later(row: ScheduledSend, exc: ProviderError) -> None:
    from flows.tasks import send_scheduled as send_task

    delay = RETRY_BACKOFF_SECONDS[min(row.attempts, len(RETRY_BACKOFF_SECONDS)) - 1]
    ScheduledSend.objects.filter(id=row.id, status=ScheduledSend.Status.SENDING).update(
        status=ScheduledSend.Status.PENDING, due_at=timezone.now() + timedelta(seconds=delay), last_error=str(exc)[:500]
    )
    logger.info("scheduled send %s: provider unavailable, retrying in %ss: %s", row.id, delay, exc)
    send_task.apply_async((row.id,), countdown=delay)


def _give_up(row: ScheduledSend, exc: ProviderError, *, status: str) -> None:
    logger.warning("scheduled send %s: %s: %s", row.id, status, exc)
    with transaction.atomic():
        ScheduledSend.objects.filter(id=row.id, status=ScheduledSend.Status.SENDING).update(
            status=status, last_error=str(exc)[:500]
        )
        if row.flow_message_id is not None:
            # The flow cannot go on without this message; a lost re-prompt does not end it.
            Conversation.objects.filter(id=row.conversation_id, status=Conversation.Status.ACTIVE).update(
                status=Conversation.Status.FAILED, ended_at=timezone.now(), waiting_for=""
            )
