"""Firing no-reply timers: the beat sweep claims each due `ReplyTimer` once and moves its conversation.

A timer fires only if its conversation is still active and still waits at the message
that armed it; otherwise it is cancelled. The contact's row is locked first, as an
inbound burst does, so a reply and its timer never both move the conversation. Timers
are rows, not Celery countdowns: a restart of workers or beat only delays them.
"""

import logging

from django.db import transaction
from django.utils import timezone

from contacts.models import Contact
from flows import engine
from flows.models import Conversation, ReplyTimer, WaitTimeout
from flows.sending import send_due_for_conversation
from flows.services import apply_decision, position_of
from flows.specs import flow_spec
from flows.timeouts import WAITS

logger = logging.getLogger(__name__)


def fire_due_timers(*, limit: int = 200) -> int:
    due = ReplyTimer.objects.filter(status=ReplyTimer.Status.PENDING, due_at__lte=timezone.now()).order_by("due_at")
    return sum(fire_timer(timer_id=timer_id) == "fired" for timer_id in list(due.values_list("id", flat=True)[:limit]))


def fire_timer(*, timer_id: int) -> str:
    """Fire one due timer if it can be claimed; returns what happened (for logs and tests)."""
    now = timezone.now()
    contact_id = ReplyTimer.objects.filter(id=timer_id).values_list("conversation__contact_id", flat=True).first()
    if contact_id is None:
        return "not_claimed"
    with transaction.atomic():
        Contact.objects.select_for_update().filter(id=contact_id).values_list("id", flat=True).first()
        timer = (
            ReplyTimer.objects.select_for_update(skip_locked=True)
            .filter(id=timer_id, status=ReplyTimer.Status.PENDING, due_at__lte=now)
            .first()
        )
        if timer is None:
            return "not_claimed"
        conversation = Conversation.objects.select_related("flow").get(id=timer.conversation_id)
        still_waiting = (
            conversation.is_active
            and conversation.flow is not None
            and conversation.current_message_id == timer.flow_message_id
            and conversation.waiting_for in WAITS
        )
        if not still_waiting:
            ReplyTimer.objects.filter(id=timer.id).update(status=ReplyTimer.Status.CANCELLED)
            return "stale"
        ReplyTimer.objects.filter(id=timer.id).update(status=ReplyTimer.Status.FIRED, fired_at=now)
        subflow_id = WaitTimeout.objects.filter(message_id=timer.flow_message_id).values_list("subflow_id", flat=True)
        decision = engine.after_timeout(
            flow_spec(conversation.flow),
            position_of(conversation),
            conversation.variables,
            subflow_id=subflow_id.first(),
        )
        apply_decision(conversation=conversation, decision=decision, now=now)
    logger.info("conversation %s: no reply in time at message %s", conversation.id, timer.flow_message_id)
    send_due_for_conversation(conversation_id=conversation.id)
    return "fired"
