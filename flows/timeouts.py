"""Arming no-reply timers: each time conversations stop somewhere, their timers follow.

A conversation that moved has its pending timer cancelled; one that now waits (for a
reply, a file or a choice) at a message with a `WaitTimeout` gets a new `ReplyTimer`.
Called inside the transaction that stores the conversation's position.
"""

from datetime import timedelta

from flows.models import Conversation, ReplyTimer, WaitTimeout

WAITS = (Conversation.Waiting.REPLY, Conversation.Waiting.FILE, Conversation.Waiting.CHOICE)


def arm_timers(conversations: list[Conversation], *, now, fresh: bool = False) -> list[ReplyTimer]:
    """`fresh`: conversations just created, which have no timer to cancel."""
    if not fresh:
        ReplyTimer.objects.filter(
            conversation_id__in=[c.id for c in conversations], status=ReplyTimer.Status.PENDING
        ).update(status=ReplyTimer.Status.CANCELLED)
    waiting = [
        c
        for c in conversations
        if c.status == Conversation.Status.ACTIVE and c.waiting_for in WAITS and c.current_message_id
    ]
    if not waiting:
        return []
    timeouts = {
        t.message_id: t for t in WaitTimeout.objects.filter(message_id__in={c.current_message_id for c in waiting})
    }
    timers = [
        ReplyTimer(
            organization_id=c.organization_id,
            conversation=c,
            flow_message_id=c.current_message_id,
            due_at=now + timedelta(minutes=timeouts[c.current_message_id].after_minutes),
        )
        for c in waiting
        if c.current_message_id in timeouts
    ]
    return ReplyTimer.objects.bulk_create(timers)
