"""GOSAC webhooks: `{"type": "messages:created", "data": {<message>, "contact": {...}, "ticket": {...}}}`.

Only `messages:created` is understood; other types are `Unhandled`. GOSAC is built on
Whaticket: `mediaType` is "chat" for text, "application" for documents, and for a
media message `body` holds the file name.
"""

import hashlib
from datetime import UTC

from django.utils import timezone

from contacts.phones import InvalidPhone, normalize_phone
from webhooks.checked import BadPayload, Checked
from webhooks.gosac.events import IncomingMessage, Unhandled

MESSAGE_CREATED = "messages:created"
# What the rows that keep these values hold (flows.models): an id past it is not GOSAC's,
# a display name is cut.
MESSAGE_ID, EXTERNAL_ID, NAME, FILE_NAME, MEDIA_URL, MEDIA_PATH = 128, 64, 200, 255, 1000, 500


def parse(payload) -> IncomingMessage | Unhandled:
    root = Checked(payload).object()
    event_type = root["type"].string()
    if event_type != MESSAGE_CREATED:
        return Unhandled(f"event type {event_type} is not handled")
    data = root["data"].object()
    contact = data["contact"].object()
    ticket = data.get("ticket", {}).object()
    number = _text(contact["number"], EXTERNAL_ID)
    try:
        phone = normalize_phone(number)
    except InvalidPhone:
        raise BadPayload(f"data.contact.number is not a phone number: {number[:40]}") from None
    media_type = data.get("mediaType", "chat").string()
    body = data.get("body", "").optional_string()
    is_file = media_type not in ("chat", "text")
    contact_id = _text(data.get("contactId"), EXTERNAL_ID) or _text(contact.get("id"), EXTERNAL_ID)
    ticket_id = _text(data.get("ticketId"), EXTERNAL_ID) or _text(ticket.get("id"), EXTERNAL_ID)
    message_id = _text(data.get("id"), MESSAGE_ID) or _text(data.get("messageId"), MESSAGE_ID)
    if not message_id:
        message_id = content_key(
            contact=contact_id or phone, ticket=ticket_id, body=body, at=data.get("createdAt", "").optional_string()
        )
    return IncomingMessage(
        provider="gosac",
        message_id=message_id,
        phone=phone,
        contact_name=contact.get("name", "").optional_string()[:NAME],
        contact_id=contact_id,
        ticket_id=ticket_id,
        ticket_status=ticket.get("status", "").optional_string()[:EXTERNAL_ID],
        ticket_user_id=_text(ticket.get("userId"), EXTERNAL_ID),
        text="" if is_file else body,
        media_type=media_type,
        media_url=data.get("mediaUrl", "").optional_string(max_length=MEDIA_URL),
        media_path=data.get("mediaPath", "").optional_string(max_length=MEDIA_PATH),
        file_name=body[:FILE_NAME] if is_file else "",
        from_me=data.get("fromMe").boolean(default=False),
        from_group=data.get("fromGroup").boolean(default=False),
    )


def content_key(*, contact: str, ticket: str, body: str, at: str) -> str:
    """A message id for a GOSAC message that came without one, so a redelivery is seen as a repeat.

    The time is the message's `createdAt`; a body without one (the old docs' example has
    none) is keyed by the minute it arrived, so a redelivery within that minute is a
    repeat and the same text sent again later is a new message.
    """
    if not at:
        at = "received:" + timezone.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    digest = hashlib.sha256("\x1f".join((contact, ticket, body, at)).encode()).hexdigest()
    return f"content:{digest[:48]}"


def _text(value: Checked, max_length: int) -> str:
    """Ids come as numbers or strings."""
    if value.value is None:
        return ""
    if isinstance(value.value, bool) or not isinstance(value.value, str | int):
        raise BadPayload(f"{value.path} must be a string or a number")
    text = str(value.value)
    if len(text) > max_length:
        raise BadPayload(f"{value.path} is longer than {max_length} characters")
    return text
