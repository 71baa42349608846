"""Meta's `messages` webhooks: `{"object": "whatsapp_business_account", "entry": [{"changes": [...]}]}`.

One POST may carry many entries, changes, statuses and messages. `split()` cuts it into
one `Item` per status or message, each with its own dedupe key (a redelivered batch
stores nothing twice) and a payload of its own: the change's `value` with just that
status or message, which `parse_item()` reads back into a typed event when it is applied.
A `message_template_status_update` change is one item about the account (its
`business_account_id`); changes of other fields (`account_update`, ...) are ignored.

Shapes: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/
and .../messages/status/ (docs/cloud-api.md).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from contacts.phones import InvalidPhone, normalize_phone
from webhooks.checked import BadPayload, Checked
from webhooks.cloud.events import InboundMessage, MessageStatus, TemplateStatus, Unhandled

OBJECT = "whatsapp_business_account"
MESSAGES = "messages"
TEMPLATE_STATUS = "message_template_status_update"
STATUSES = {"sent", "delivered", "read", "failed"}
# Longest values the rows that keep them hold (campaigns.models.Recipient, flows.models).
MESSAGE_ID, NAME, TEXT, FILE_NAME, REPLY_ID = 128, 200, 4096, 255, 256


@dataclass(frozen=True)
class Item:
    phone_number_id: str  # the number the item is about ("" for the account's items)
    event: str  # "status", "message" or "template_status"
    dedupe_key: str
    payload: dict  # {"field": "messages", "value": {... one status or one message ...}}
    provider_time: datetime | None


def split(payload) -> list[Item]:
    root = Checked(payload).object()
    if root["object"].string() != OBJECT:
        raise BadPayload(f"object must be {OBJECT}")
    items = []
    for entry in root["entry"].items():
        entry = entry.object()
        for change in entry.get("changes", []).items():
            change = change.object()
            field = change["field"].string()
            if field == TEMPLATE_STATUS:
                items.append(_template_item(entry, change["value"].object()))
            if field != MESSAGES:
                continue
            value = change["value"].object()
            phone_number_id = value["metadata"].object()["phone_number_id"].string(max_length=32)
            common = {k: v for k, v in value.value.items() if k not in ("statuses", "messages")}
            for status in value.get("statuses", []).items():
                event = _status(status)
                key = f"status:{event.message_id}:{event.status}"
                items.append(_item(phone_number_id, "status", key, common, "statuses", status, event.occurred_at))
            for message in value.get("messages", []).items():
                message_id = message.object()["id"].string(max_length=MESSAGE_ID)
                at = _time(message.get("timestamp"))
                items.append(
                    _item(phone_number_id, "message", f"message:{message_id}", common, "messages", message, at)
                )
    return items


def _template_item(entry: Checked, value: Checked) -> Item:
    account = entry["id"].string(max_length=32)
    template_id = value.get("message_template_id").optional_integer()
    status = value["event"].string(max_length=32)
    at = entry.get("time").optional_integer()
    key = f"template:{account}:{template_id}:{status}:{at}"
    payload = {"field": TEMPLATE_STATUS, "business_account_id": account, "value": value.value}
    return Item("", "template_status", key, payload, _time(entry.get("time")))


def _item(phone_number_id, event, key, common, kind, one: Checked, at) -> Item:
    return Item(phone_number_id, event, key, {"field": MESSAGES, "value": {**common, kind: [one.value]}}, at)


def parse_item(payload) -> MessageStatus | InboundMessage | TemplateStatus | Unhandled:
    """The event a stored item holds."""
    root = Checked(payload).object()
    value = root["value"].object()
    if root.get("field").optional_string() == TEMPLATE_STATUS:
        return TemplateStatus(
            business_account_id=root["business_account_id"].string(),
            template_id=str(value.get("message_template_id").optional_integer() or ""),
            name=value["message_template_name"].string(max_length=512),
            language=value["message_template_language"].string(max_length=16),
            status=value["event"].string(max_length=32),
            reason=value.get("reason").optional_string()[:255],
        )
    if "statuses" in value:
        return _status(value["statuses"].items()[0])
    message = value["messages"].items()[0]
    contacts = value.get("contacts", []).items()
    name = contacts[0].object().get("profile", {}).object().get("name").optional_string() if contacts else ""
    return _message(message, name[:NAME])


def _status(status: Checked) -> MessageStatus:
    status = status.object()
    state = status["status"].string()
    if state not in STATUSES:
        raise BadPayload(f"{status.path}.status must be one of {', '.join(sorted(STATUSES))}")
    errors = tuple(_error(error) for error in status.get("errors", []).items())
    pricing = status.get("pricing", {}).object().value
    conversation = status.get("conversation", {}).object().value
    return MessageStatus(
        message_id=status["id"].string(max_length=MESSAGE_ID),
        status=state,
        recipient_phone=_phone(status.get("recipient_id"), required=False),
        occurred_at=_time(status.get("timestamp")),
        errors=errors,
        pricing=pricing,
        conversation=conversation,
    )


def _error(error: Checked) -> dict:
    error = error.object()
    data = error.get("error_data", {}).object()
    return {
        "code": error.get("code").optional_integer(),
        "title": (error.get("title").optional_string() or error.get("message").optional_string())[:300],
        "details": data.get("details").optional_string()[:500],
    }


def _message(message: Checked, contact_name: str) -> InboundMessage | Unhandled:
    message = message.object()
    kind = message["type"].string()
    common = {
        "message_id": message["id"].string(max_length=MESSAGE_ID),
        "phone": _phone(message["from"], required=True),
        "contact_name": contact_name,
        "message_type": kind,
        "occurred_at": _time(message.get("timestamp")),
    }
    if kind == "text":
        return InboundMessage(**common, text=message["text"].object()["body"].string(max_length=TEXT))
    if kind in ("image", "video", "audio", "document", "sticker"):
        media = message[kind].object()
        return InboundMessage(
            **common,
            text=media.get("caption").optional_string()[:TEXT],
            media_id=media["id"].string(max_length=MESSAGE_ID),
            mimetype=media.get("mime_type").optional_string()[:100],
            file_name=media.get("filename").optional_string()[:FILE_NAME],
        )
    if kind == "interactive":
        interactive = message["interactive"].object()
        reply_kind = interactive["type"].string()
        if reply_kind not in ("button_reply", "list_reply"):
            return Unhandled(f"interactive {reply_kind} is not handled")
        reply = interactive[reply_kind].object()
        return InboundMessage(
            **common,
            text=reply["title"].string()[:TEXT],
            reply_id=reply["id"].string(max_length=REPLY_ID),
        )
    if kind == "button":
        # A template's quick-reply button: its payload is the id, its text the title.
        button = message["button"].object()
        return InboundMessage(
            **common,
            text=button["text"].string()[:TEXT],
            reply_id=button.get("payload").optional_string()[:REPLY_ID],
        )
    return Unhandled(f"message type {kind} is not handled")


def _phone(value: Checked, *, required: bool) -> str:
    if value.value is None and not required:
        return ""
    digits = value.string(max_length=20)
    try:
        return normalize_phone("+" + digits.lstrip("+"))
    except InvalidPhone:
        raise BadPayload(f"{value.path} is not a phone number: {digits[:40]}") from None


def _time(value: Checked) -> datetime | None:
    seconds = value.optional_integer()
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise BadPayload(f"{value.path} is not a time") from None
