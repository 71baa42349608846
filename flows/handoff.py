"""Handing a contact to a person: pause the bot, resume it, and tell other systems.

A contact is handed off when someone answers from the number's own phone (a `fromMe`
message the product did not send), when the contact reaches a subflow marked "hand off
to a person", or when an operator takes over. While the handoff is open the bot sends
that contact nothing: its pending sends and no-reply timers are cancelled, and inbound
messages are kept in the history unanswered. It ends at `until` (the organization's
HANDOFF_HOURS) or on an explicit resume. Each start and end writes a signed outbound
webhook, `conversation.handoff` / `conversation.resumed`, in the same transaction.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from flows.controls import get_bot_settings
from flows.models import Conversation, Handoff, MessageHistory, ReplyTimer, ScheduledSend
from integrations.services import webhooks


@transaction.atomic
def hand_off(*, contact, instance, reason: str, now=None, cancel_sends: bool = True) -> Handoff:
    """Pause the bot for `contact` on `instance` (an open handoff is extended, not repeated).

    `cancel_sends=False` lets the messages just scheduled go out (the handoff subflow's own).
    """
    now = now or timezone.now()
    until = now + timedelta(hours=get_bot_settings(organization_id=instance.organization_id).HANDOFF_HOURS)
    conversation = Conversation.objects.filter(
        contact=contact, instance=instance, status=Conversation.Status.ACTIVE
    ).first()
    if conversation is not None and cancel_sends:
        ScheduledSend.objects.filter(conversation=conversation, status=ScheduledSend.Status.PENDING).update(
            status=ScheduledSend.Status.CANCELLED
        )
    if conversation is not None:
        ReplyTimer.objects.filter(conversation=conversation, status=ReplyTimer.Status.PENDING).update(
            status=ReplyTimer.Status.CANCELLED
        )
    open_one = Handoff.objects.filter(contact=contact, instance=instance, resumed_at__isnull=True).first()
    if open_one is not None:
        Handoff.objects.filter(id=open_one.id).update(until=max(until, open_one.until))
        open_one.refresh_from_db()
        return open_one
    try:
        with transaction.atomic():
            handoff = Handoff.objects.create(
                organization_id=instance.organization_id,
                contact=contact,
                instance=instance,
                conversation=conversation,
                reason=reason,
                started_at=now,
                until=until,
            )
    except IntegrityError:  # another process opened it first
        return Handoff.objects.get(contact=contact, instance=instance, resumed_at__isnull=True)
    _event(handoff, "conversation.handoff", at=now)
    return handoff


@transaction.atomic
def resume(*, handoff: Handoff, now=None) -> bool:
    """End an open handoff (the bot answers the contact again); False if it was already over."""
    now = now or timezone.now()
    changed = Handoff.objects.filter(id=handoff.id, resumed_at__isnull=True).update(resumed_at=now)
    if changed:
        handoff.resumed_at = now
        _event(handoff, "conversation.resumed", at=now)
    return bool(changed)


def is_paused(*, contact_id: int, instance_id: int, now=None) -> bool:
    """Whether a person has the contact now; a handoff past its `until` is resumed on the way."""
    now = now or timezone.now()
    handoff = Handoff.objects.filter(contact_id=contact_id, instance_id=instance_id, resumed_at__isnull=True).first()
    if handoff is None:
        return False
    if handoff.until <= now:
        resume(handoff=handoff, now=now)
        return False
    return True


def sent_by_product(*, instance, contact, message_id: str) -> bool:
    """Whether a `fromMe` message is the bot's own (stored, or a send of this contact still in flight)."""
    if (
        message_id
        and MessageHistory.objects.filter(
            instance=instance, provider_message_id=message_id, direction=MessageHistory.Direction.OUTBOUND
        ).exists()
    ):
        return True
    # The echo may beat the provider's answer to our own request: a send under way is ours.
    return ScheduledSend.objects.filter(
        conversation__contact=contact, conversation__instance=instance, status=ScheduledSend.Status.SENDING
    ).exists()


def _event(handoff: Handoff, type: str, *, at) -> None:
    webhooks.enqueue_event(
        organization_id=handoff.organization_id,
        type=type,
        key=f"{type}:{handoff.id}",
        payload={
            "handoff_id": handoff.id,
            "contact_id": handoff.contact_id,
            "phone": handoff.contact.phone,
            "instance_id": handoff.instance_id,
            "conversation_id": handoff.conversation_id,
            "reason": handoff.reason,
            "until": handoff.until.isoformat(),
        },
        occurred_at=at,
    )
