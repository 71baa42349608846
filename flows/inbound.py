"""Inbound messages: intake (controls, durable row, debounce), then a burst through the engine."""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from config import logfmt
from contacts.models import Contact
from flows import debounce, engine
from flows.controls import get_bot_settings
from flows.handoff import hand_off, is_paused
from flows.models import Conversation, FlowActivity, Handoff, MessageHistory, ReceivedFile
from flows.queries import active_conversation, default_flow
from flows.received_files import store_received_file
from flows.sending import send_due_for_conversation
from flows.services import apply_decision, initial_variables, position_of
from flows.specs import flow_spec
from flows.starting import start_conversation
from flows.text import file_kind

logger = logging.getLogger(__name__)

STALE_AFTER_SECONDS = 120


@dataclass(frozen=True)
class InboundOutcome:
    accepted: bool
    reason: str
    history_id: int | None = None


def handle_inbound_message(
    *,
    instance,
    contact: Contact,
    text: str = "",
    media: engine.Media | None = None,
    provider_message_id: str = "",
    external_ticket_id: str = "",
    external_contact_id: str = "",
    ticket_status: str = "",
    ticket_user_id: str = "",
    choice_key: str = "",
) -> InboundOutcome:
    """A message from `contact` to `instance`, already past the provider's filters.

    `choice_key` is the id of a tapped button or list row (Cloud API), matched to a
    choice step's option before its text is.

    Checks the bot controls, stores the message (once per provider id) and queues its
    burst; the engine runs when the contact pauses (`process_when_quiet`). A GOSAC ticket
    that is closed or that a person took (`ticket_user_id`) is left to people while
    BOT_SKIP_TAKEN_TICKETS is on (the default).
    """
    from flows.tasks import process_burst

    bot = get_bot_settings(organization_id=instance.organization_id)
    reason = ""
    if not bot.BOT_ENABLED:
        reason = "bot_disabled"
    elif bot.BOT_STATUS != "active":
        reason = f"bot_{bot.BOT_STATUS}"
    elif bot.TEST_MODE and not bot.is_test_contact(contact, external_contact_id=external_contact_id):
        reason = "not_a_test_contact"
    elif bot.BOT_SKIP_TAKEN_TICKETS and ticket_status.lower() == "closed":
        reason = "ticket_closed"
    elif bot.BOT_SKIP_TAKEN_TICKETS and ticket_user_id:
        reason = "ticket_taken_by_a_person"
    row = store_inbound(
        instance=instance,
        contact=contact,
        text=text,
        media=media,
        provider_message_id=provider_message_id,
        external_ticket_id=external_ticket_id,
        external_contact_id=external_contact_id,
        ticket_status=ticket_status,
        ticket_user_id=ticket_user_id,
        processed=bool(reason),
        choice_key=choice_key,
    )
    if row is None:
        return InboundOutcome(accepted=False, reason="duplicate")
    if ticket_status or ticket_user_id:
        # The ticket's conversations (and the active one) keep its latest state (API and admin).
        same_ticket = Q(external_ticket_id=external_ticket_id) if external_ticket_id else Q(pk__in=[])
        Conversation.objects.filter(contact=contact, instance=instance).filter(
            same_ticket | Q(status=Conversation.Status.ACTIVE)
        ).update(external_ticket_status=ticket_status[:32], external_ticket_user_id=ticket_user_id[:64])
    if reason:
        return InboundOutcome(accepted=False, reason=reason, history_id=row.id)
    if debounce.note_arrival(instance_id=instance.id, contact_id=contact.id, debounce_ms=bot.DEBOUNCE_TIME):
        process_burst.apply_async((instance.id, contact.id), countdown=bot.DEBOUNCE_TIME / 1000)
    return InboundOutcome(accepted=True, reason="queued", history_id=row.id)


def store_inbound(
    *,
    instance,
    contact: Contact,
    text: str = "",
    media: engine.Media | None = None,
    message_type: str = "",
    provider_message_id: str = "",
    external_ticket_id: str = "",
    external_contact_id: str = "",
    ticket_status: str = "",
    ticket_user_id: str = "",
    processed: bool,
    at=None,
    choice_key: str = "",
) -> MessageHistory | None:
    """Keep an inbound message in the history (once per provider id) and count it on the contact.

    `processed=True` keeps a message the engine must not answer. Returns None for a message
    already stored (a provider's redelivery).
    """
    at = at or timezone.now()
    row = MessageHistory(
        organization_id=instance.organization_id,
        contact=contact,
        instance=instance,
        direction=MessageHistory.Direction.INBOUND,
        message_type=message_type or _message_type(media),
        text=text,
        media_url=media.url if media else "",
        media_path=media.path if media else "",
        mimetype=media.mimetype if media else "",
        provider_message_id=provider_message_id,
        choice_key=choice_key[:200],
        external_ticket_id=external_ticket_id,
        external_contact_id=external_contact_id,
        external_ticket_status=ticket_status[:32],
        external_ticket_user_id=ticket_user_id[:64],
        processed_at=timezone.now() if processed else None,
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
            Contact.objects.filter(id=contact.id).update(
                last_interaction_at=at, total_messages_received=F("total_messages_received") + 1
            )
    except IntegrityError:
        return None
    return row


def _message_type(media: engine.Media | None) -> str:
    if media is None:
        return "text"
    return "image" if media.mimetype.startswith("image/") else "document"


def _unprocessed(instance_id: int, contact_id: int):
    return MessageHistory.objects.filter(
        instance_id=instance_id,
        contact_id=contact_id,
        direction=MessageHistory.Direction.INBOUND,
        processed_at__isnull=True,
    )


def process_when_quiet(*, instance_id: int, contact_id: int) -> str:
    """The burst task: wait until the contact has been quiet for DEBOUNCE_TIME, then process."""
    from flows.tasks import process_burst as process_burst_task

    found = (
        _unprocessed(instance_id, contact_id)
        .values("organization_id")
        .annotate(last=Max("created_at"))
        .order_by("organization_id")
        .first()
    )
    if found is None:
        debounce.release(instance_id=instance_id, contact_id=contact_id)
        return "nothing"
    wait_ms = get_bot_settings(organization_id=found["organization_id"]).DEBOUNCE_TIME
    remaining = (found["last"] + timedelta(milliseconds=wait_ms) - timezone.now()).total_seconds()
    if remaining > 0:
        if debounce.uses_shared_marker():
            process_burst_task.apply_async((instance_id, contact_id), countdown=remaining)
        return "waiting"
    debounce.release(instance_id=instance_id, contact_id=contact_id)
    return process_burst(instance_id=instance_id, contact_id=contact_id)


def process_burst(*, instance_id: int, contact_id: int) -> str:
    """Feed the contact's unprocessed messages to the engine together, then send what is due.

    The contact's row lock serializes processing of one contact across processes, so
    two bursts never both find "no conversation" and start two.
    """
    started = time.monotonic()
    now = timezone.now()
    token = None
    try:
        with transaction.atomic():
            Contact.objects.select_for_update().filter(id=contact_id).values_list("id", flat=True).first()
            rows = list(_unprocessed(instance_id, contact_id).select_related("contact", "instance").order_by("id"))
            if not rows:
                return "nothing"
            last = rows[-1]
            contact, instance = last.contact, last.instance
            bot = get_bot_settings(organization_id=instance.organization_id)
            conversation = active_conversation(contact_id=contact_id, instance_id=instance_id)
            if is_paused(contact_id=contact_id, instance_id=instance_id, now=now):
                _mark_processed(rows, conversation, now)
                return "handed_off"
            if conversation is None:
                flow = default_flow(organization_id=instance.organization_id)
                if flow is None:
                    _mark_processed(rows, None, now)
                    if (received := _receive_file(None, contact, None, rows)) is not None:
                        transaction.on_commit(lambda: store_received_file(received_file_id=received.id))
                    logger.info("inbound for contact %s: the organization has no default flow", contact_id)
                    return "no_flow"
                conversation = Conversation.objects.create(
                    organization_id=instance.organization_id,
                    contact=contact,
                    instance=instance,
                    flow=flow,
                    external_ticket_id=last.external_ticket_id,
                    external_contact_id=last.external_contact_id,
                    external_ticket_status=last.external_ticket_status,
                    external_ticket_user_id=last.external_ticket_user_id,
                    variables=initial_variables(contact, None),
                    last_interaction_at=now,
                )
                decision = engine.start(flow_spec(flow), conversation.variables)
            else:
                _follow_external_ids(conversation, last)
                if conversation.flow is None:
                    decision = engine.Decision(completed=True, variables=conversation.variables, reason="flow_deleted")
                else:
                    decision = engine.on_inbound(
                        flow_spec(conversation.flow), position_of(conversation), _combine(rows), conversation.variables
                    )
            subflow_before = conversation.subflow_id
            not_before = None
            if conversation.last_bot_message_at and bot.MESSAGE_COOLDOWN:
                not_before = conversation.last_bot_message_at + timedelta(seconds=bot.MESSAGE_COOLDOWN)
            token = logfmt.bind(
                organization_id=conversation.organization_id,
                instance_id=conversation.instance_id,
                conversation_id=conversation.id,
            )
            apply_decision(conversation=conversation, decision=decision, now=now, not_before=not_before)
            if decision.jumped_to is not None and conversation.flow is not None:
                target = flow_spec(conversation.flow).subflow(decision.jumped_to)
                if target is not None and target.hands_off:
                    hand_off(contact=contact, instance=instance, reason=Handoff.Reason.CONTACT, cancel_sends=False)
            _mark_processed(rows, conversation, now)
            # A file is kept whether a step asked for it or not; one of a type the step refused is not.
            requested = decision.accept_file
            refused = decision.reason == "wrong_file_type"
            received = None if refused else _receive_file(conversation, contact, requested, rows)
            _record_activity(conversation, rows, decision, subflow_before, received, started)
        send_due_for_conversation(conversation_id=conversation.id)
        if received is not None:
            store_received_file(received_file_id=received.id)
        return decision.reason or "processed"
    finally:
        if token is not None:
            logfmt.reset(token)


def _record_activity(conversation, rows, decision, subflow_before, received, started) -> None:
    """The activity log of one burst: processed (with its time), a subflow change, a file."""
    base = {"organization_id": conversation.organization_id, "conversation": conversation}
    entries = [
        FlowActivity(
            **base,
            kind=FlowActivity.Kind.MESSAGE_PROCESSED,
            duration_ms=int((time.monotonic() - started) * 1000),
            details={"messages": len(rows), "history_ids": [row.id for row in rows], "reason": decision.reason or ""},
        )
    ]
    if conversation.subflow_id != subflow_before:
        entries.append(
            FlowActivity(
                **base,
                kind=FlowActivity.Kind.SUBFLOW_CHANGED,
                details={"from_subflow_id": subflow_before, "to_subflow_id": conversation.subflow_id},
            )
        )
    if received is not None:
        entries.append(
            FlowActivity(
                **base,
                kind=FlowActivity.Kind.FILE_RECEIVED,
                details={"received_file_id": received.id, "name": received.original_name, "type": received.file_type},
            )
        )
    FlowActivity.objects.bulk_create(entries)


def _combine(rows: list[MessageHistory]) -> engine.Inbound:
    """A burst as one message: the texts in order, and its last file."""
    text = "\n".join(row.text for row in rows if row.text.strip())
    media = None
    for row in rows:
        if row.media_url or row.media_path:
            media = engine.Media(url=row.media_url, path=row.media_path, mimetype=row.mimetype, filename="")
    tap_id = next((row.choice_key for row in reversed(rows) if row.choice_key), "")
    return engine.Inbound(text=text, media=media, tap_id=tap_id)


def _follow_external_ids(conversation: Conversation, last: MessageHistory) -> None:
    changed = []
    for field in ("external_ticket_id", "external_contact_id", "external_ticket_status", "external_ticket_user_id"):
        value = getattr(last, field)
        if value and getattr(conversation, field) != value:
            setattr(conversation, field, value)
            changed.append(field)
    if changed:
        conversation.save(update_fields=changed)


def _mark_processed(rows, conversation, now) -> None:
    MessageHistory.objects.filter(id__in=[row.id for row in rows]).update(processed_at=now, conversation=conversation)


def _receive_file(conversation: Conversation | None, contact: Contact, requested, rows) -> ReceivedFile | None:
    """The burst's last file as a received file (`requested` by that flow message, or by none)."""
    row = next((r for r in reversed(rows) if r.media_url or r.media_path), None)
    if row is None:
        return None
    url = row.media_url or (row.media_path if row.media_path.startswith("http") else "")
    name = (row.media_url or row.media_path).split("?", 1)[0].rsplit("/", 1)[-1]
    _extension, mimetype = file_kind(mimetype=row.mimetype, url=url or row.media_path)
    return ReceivedFile.objects.create(
        organization_id=contact.organization_id,
        conversation=conversation,
        contact_id=contact.id,
        flow_message_id=requested.id if requested else None,
        original_name=name[:255],
        file_type=mimetype,
        media_url=url,
    )


def process_stale() -> int:
    """Bursts whose task never ran: process them now (the sweep of lost tasks)."""
    cutoff = timezone.now() - timedelta(seconds=STALE_AFTER_SECONDS)
    pairs = (
        MessageHistory.objects.filter(
            direction=MessageHistory.Direction.INBOUND, processed_at__isnull=True, created_at__lt=cutoff
        )
        .values_list("instance_id", "contact_id")
        .distinct()[:500]
    )
    count = 0
    for instance_id, contact_id in list(pairs):
        process_burst(instance_id=instance_id, contact_id=contact_id)
        count += 1
    return count


def simulate_message(*, instance, contact: Contact, text: str) -> str:
    """The admin's simulator: a message from `contact`, processed at once (no debounce, no controls)."""
    MessageHistory.objects.create(
        organization_id=instance.organization_id,
        contact=contact,
        instance=instance,
        direction=MessageHistory.Direction.INBOUND,
        text=text,
    )
    return process_burst(instance_id=instance.id, contact_id=contact.id)


def simulate_start(*, instance, contact: Contact, flow, text: str = "") -> Conversation:
    """The simulator's (re)start: `text` is kept as the message that started `flow`."""
    row = None
    if text:
        row = MessageHistory.objects.create(
            organization_id=instance.organization_id,
            contact=contact,
            instance=instance,
            direction=MessageHistory.Direction.INBOUND,
            text=text,
            processed_at=timezone.now(),
        )
    conversation = start_conversation(contact=contact, instance=instance, flow=flow).conversation
    if row is not None:
        MessageHistory.objects.filter(id=row.id).update(conversation=conversation)
    return conversation
