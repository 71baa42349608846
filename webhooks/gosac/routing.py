"""Route parsed GOSAC events: business filters, then the owning app's service.

Filters answer why a message is left alone; the flows app decides the rest (bot
controls, debounce, engine). Each event type has its handler in `HANDLERS`.
"""

from dataclasses import dataclass

from contacts.services import contact_get_or_create
from flows import engine
from flows.inbound import handle_inbound_message
from webhooks.gosac.events import IncomingMessage, Unhandled

ANSWERED_MEDIA_TYPES = {"text", "chat", "application"}


@dataclass(frozen=True)
class Result:
    status: str  # "accepted" or "ignored"
    reason: str


def ignore_reason(event: IncomingMessage) -> str:
    if event.from_me:
        return "from_me"
    if event.from_group:
        return "from_group"
    if event.media_type not in ANSWERED_MEDIA_TYPES:
        return f"media_type_{event.media_type}_not_handled"
    return ""


def handle_incoming_message(instance, event: IncomingMessage) -> Result:
    if instance.status != instance.Status.ACTIVE:
        return Result("ignored", "instance_inactive")
    reason = ignore_reason(event)
    if reason:
        return Result("ignored", reason)
    contact, _created = contact_get_or_create(
        organization=instance.organization, phone=event.phone, name=event.contact_name
    )
    media = None
    if event.media_type == "application":
        media = engine.Media(
            url=event.media_url, path=event.media_path, mimetype=event.mimetype, filename=event.file_name
        )
    outcome = handle_inbound_message(
        instance=instance,
        contact=contact,
        text=event.text,
        media=media,
        provider_message_id=event.message_id,
        external_ticket_id=event.ticket_id,
        external_contact_id=event.contact_id,
        ticket_status=event.ticket_status,
        ticket_user_id=event.ticket_user_id,
    )
    return Result("accepted" if outcome.accepted else "ignored", outcome.reason)


def handle_unhandled(instance, event: Unhandled) -> Result:
    return Result("ignored", event.reason)


HANDLERS = {
    IncomingMessage: handle_incoming_message,
    Unhandled: handle_unhandled,
}


def handle(instance, event) -> Result:
    return HANDLERS[type(event)](instance, event)
