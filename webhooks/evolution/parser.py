"""Evolution API webhook payloads (v1 and v2) to typed events: pure functions and a table.

Every version posts the same envelope, `{event, instance, data, destination, date_time,
sender, server_url, apikey}`; `data` differs per event and per version:

- `messages.update` v2: `data.keyId` is the WhatsApp id (`data.messageId` is Evolution's
  own database id: never use it); v1: the message key spread flat, id at `data.id`.
  `status` is Baileys' status name (`DELIVERY_ACK`, ...), or the Cloud API's (`DELIVERED`).
  Baileys' own event shape, `{key: {id, remoteJid, fromMe}, update: {status}}`, is read too.
- `messages.upsert` / `send.message`: `data.key.{id, remoteJid, fromMe}`, `data.message`; or
  a list of those, or Baileys' `{messages: [...]}`. A key without an id gets one from its content.
- `connection.update`: `data.state` with Baileys' `statusReason`.
- `qrcode.updated`: `data.qrcode.{base64, pairingCode, code}`, the same code `instance/connect`
  answers; `{message, statusCode}` instead once Evolution's QR code limit is reached.

Fixtures and where each shape comes from: tests/fixtures/evolution/README.md.
"""

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from contacts.phones import InvalidPhone, normalize_phone
from webhooks.checked import BadPayload, Checked, is_ascii_digits
from webhooks.evolution.events import (
    ConnectionChange,
    EvolutionEvent,
    InboundMessage,
    MessageDeleted,
    MessageStatus,
    QrCodeUpdated,
)
from webhooks.evolution.polls import voted_labels

# Baileys' proto.WebMessageInfo.Status, the only source of numeric statuses; Evolution maps
# them by the same table (src/utils/renderStatus.ts). Not 1 sent / 2 delivered / 3 read.
BAILEYS_STATUS = {0: "ERROR", 1: "PENDING", 2: "SERVER_ACK", 3: "DELIVERY_ACK", 4: "READ", 5: "PLAYED"}
# Provider status -> recipient status; "" changes no delivery status (edits, deletions).
STATUS = {
    "ERROR": "failed",
    "FAILED": "failed",
    "PENDING": "",
    "SERVER_ACK": "sent",
    "SENT": "sent",
    "DELIVERY_ACK": "delivered",
    "DELIVERED": "delivered",
    "READ": "read",
    "PLAYED": "read",
    "DELETED": "",
}
CONNECTION_STATES = {"open", "connecting", "close"}
# What the rows that keep these values hold: an id past it is not WhatsApp's; names are cut.
MESSAGE_ID, NAME, FILE_NAME, MIMETYPE = 128, 200, 255, 100
# A QR code PNG is a few KB; past this it is not one, and it would be kept in the cache.
QR_CODE_MAX = 64 * 1024
_QR_DATA_URL = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,(?P<data>[A-Za-z0-9+/=]+)")
_PAIRING_CODE = re.compile(r"[A-Za-z0-9-]{1,16}")
MEDIA_TYPES = {
    "imageMessage": "image",
    "videoMessage": "video",
    "audioMessage": "audio",
    "documentMessage": "document",
    "stickerMessage": "sticker",
}


@dataclass
class Parsed:
    """What one payload holds: the normalized event name, its events, and its identity."""

    event: str
    events: list[EvolutionEvent] = field(default_factory=list)
    dedupe_key: str = ""
    ignored: str = ""
    provider_time: datetime | None = None


def event_name(raw: str) -> str:
    """`MESSAGES_UPDATE`, `messages-update` (the by-events URL suffix) -> `messages.update`."""
    return raw.strip().lower().replace("_", ".").replace("-", ".")


def parse(payload, *, url_event: str = "") -> Parsed:
    """Parse a decoded webhook body; raises BadPayload naming the bad field."""
    body = Checked(payload).object()
    raw_event = body.get("event").optional_string() or url_event
    if not raw_event:
        raise BadPayload("event is missing")
    name = event_name(raw_event)
    provider_time = parse_date_time(body.get("date_time").value)
    handler = EVENT_PARSERS.get(name)
    if handler is None:
        return Parsed(event=name, ignored="event not handled", provider_time=provider_time)
    parsed = handler(body["data"])
    parsed.event = name
    parsed.provider_time = provider_time
    if not parsed.events and not parsed.ignored:
        parsed.ignored = "nothing to apply"
    if parsed.events and not parsed.dedupe_key:
        parsed.dedupe_key = _hash(name, body["data"].value, body.get("date_time").value)
    return parsed


def instance_name(payload) -> str:
    return Checked(payload).object()["instance"].string()


# Events


def parse_messages_update(data: Checked) -> Parsed:
    events, keys, ignored = [], [], ""
    for item in data.items():
        item = item.object()
        # Baileys' own shape, which older handlers document: `{key: {id, remoteJid, fromMe}, update: {status}}`.
        key = item["key"].object() if "key" in item and "remoteJid" not in item else item
        if _skipped_chat(key.get("remoteJid").optional_string()):
            ignored = "group or broadcast"
            continue
        if (labels := voted_labels(item)) is not None:
            if vote := _poll_vote(item, labels):
                events.append(vote)
                keys.append(f"message:{vote.message_id}")
            else:
                ignored = "a withdrawn or unreadable poll vote"
            continue
        if key.get("fromMe").value is False:
            ignored = "status of a message we received"
            continue
        nested = "status" not in item and "update" in item
        status = parse_status(item["update"].object().get("status") if nested else item.get("status"))
        if not status:
            ignored = "no delivery status"
            continue
        message_id = _update_message_id(item)
        occurred_at = _from_epoch(item.get("datetime").value, milliseconds=True) or _message_time(item)
        events.append(MessageStatus(message_id=message_id, status=status, occurred_at=occurred_at))
        keys.append(f"status:{message_id}:{status}")
    return Parsed(event="", events=events, dedupe_key=_join(keys), ignored="" if events else ignored)


def _poll_vote(item: Checked, labels: tuple[str, ...]) -> InboundMessage | None:
    """A vote on our poll, as the contact's message whose text is the chosen option's label."""
    phone = phone_from_jid(item.get("remoteJid").optional_string())
    if not labels or not phone:
        return None
    poll_id = _update_message_id(item)
    return InboundMessage(
        message_id=f"vote-{_hash(poll_id, labels).removeprefix('sha256:')[:24]}",
        from_me=False,
        phone=phone,
        lid="",
        push_name="",
        text=labels[0],
        occurred_at=_message_time(item),
    )


def parse_messages_upsert(data: Checked) -> Parsed:
    events, keys, ignored = [], [], ""
    for item in _upserted(data):
        key = item["key"].object()
        chat = key["remoteJid"].string()
        if _skipped_chat(chat):
            ignored = "group or broadcast"
            continue
        phone, lid = _phone_and_lid(chat, key)
        text, media_type, file_name, mimetype = _content(item.get("message"))
        if not text and not media_type:
            ignored = "no text or media"
            continue
        message_id = key["id"].string(max_length=MESSAGE_ID) if "id" in key else _content_id(item)
        events.append(
            InboundMessage(
                message_id=message_id,
                from_me=key.get("fromMe").boolean(default=False),
                phone=phone,
                lid=lid,
                push_name=item.get("pushName").optional_string()[:NAME],
                text=text,
                media_type=media_type,
                file_name=file_name[:FILE_NAME],
                mimetype=mimetype[:MIMETYPE],
                occurred_at=_message_time(item),
            )
        )
        keys.append(f"message:{message_id}")
    return Parsed(event="", events=events, dedupe_key=_join(keys), ignored="" if events else ignored)


def _upserted(data: Checked) -> list[Checked]:
    """The messages of an upsert: `data` itself (an object or a list), or Baileys' `data.messages` list."""
    if isinstance(data.value, dict) and "key" not in data and "messages" in data:
        data = data["messages"]
    return [item.object() for item in data.items()]


def _content_id(item: Checked) -> str:
    """A stable id for a message whose key has none: its chat, author, time and content."""
    key = item["key"]
    parts = (key.get("remoteJid").value, key.get("fromMe").value, item.get("messageTimestamp").value)
    return "noid:" + _hash(*parts, item.get("message").value)[len("sha256:") :][:40]


def parse_connection_update(data: Checked) -> Parsed:
    data = data.object()
    state = data["state"].string()
    if state not in CONNECTION_STATES:
        return Parsed(event="", ignored=f"connection state {state!r}")
    reason = data.get("statusReason").optional_integer()
    return Parsed(event="", events=[ConnectionChange(state=state, status_reason=reason)])


def parse_messages_delete(data: Checked) -> Parsed:
    data = data.object()
    key = data.get("key").object() if "key" in data else data
    if _skipped_chat(key.get("remoteJid").optional_string()):
        return Parsed(event="", ignored="group or broadcast")
    message_id = key["id"].string(max_length=MESSAGE_ID)
    event = MessageDeleted(message_id=message_id, from_me=key.get("fromMe").boolean(default=False))
    return Parsed(event="", events=[event], dedupe_key=f"delete:{message_id}")


def parse_qrcode_updated(data: Checked) -> Parsed:
    data = data.object()
    if "qrcode" not in data:
        return Parsed(event="", ignored="no qr code")
    qrcode = data["qrcode"].object()
    image = qrcode.get("base64").optional_string()
    if len(image) > QR_CODE_MAX:
        return Parsed(event="", ignored=f"{qrcode.path}.base64 is larger than {QR_CODE_MAX // 1024} KB")
    if not _is_image_data_url(image):
        return Parsed(event="", ignored=f"{qrcode.path}.base64 is not an image data URL")
    pairing_code = qrcode.get("pairingCode").value
    if not isinstance(pairing_code, str) or not _PAIRING_CODE.fullmatch(pairing_code):
        pairing_code = ""  # none, or not one we would show: the QR code alone logs in
    return Parsed(event="", events=[QrCodeUpdated(qr=image, pairing_code=pairing_code)])


EVENT_PARSERS = {
    "messages.update": parse_messages_update,
    "messages.upsert": parse_messages_upsert,
    "send.message": parse_messages_upsert,
    "connection.update": parse_connection_update,
    "messages.delete": parse_messages_delete,
    "qrcode.updated": parse_qrcode_updated,
}


# Fields


def parse_status(value: Checked) -> str:
    """The recipient status a provider status means; "" when it means none."""
    raw = value.value
    if raw is None:
        return ""
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw not in BAILEYS_STATUS:
            raise BadPayload(f"{value.path} {raw} is not a Baileys message status")
        raw = BAILEYS_STATUS[raw]
    if not isinstance(raw, str) or raw.upper() not in STATUS:
        raise BadPayload(f"{value.path} {raw!r} is not a known message status")
    return STATUS[raw.upper()]


def parse_date_time(value) -> datetime | None:
    """Evolution's `date_time`: its server's local time with a `Z` glued on, so for ordering only."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _is_image_data_url(value: str) -> bool:
    match = _QR_DATA_URL.fullmatch(value)
    if match is None:
        return False
    try:
        base64.b64decode(match["data"], validate=True)
    except binascii.Error:
        return False
    return True


def _update_message_id(item: Checked) -> str:
    if "keyId" in item:
        return item["keyId"].string(max_length=MESSAGE_ID)
    if "id" in item:
        return item["id"].string(max_length=MESSAGE_ID)
    if "key" in item:
        return item["key"]["id"].string(max_length=MESSAGE_ID)
    raise BadPayload(f"{item.path}.keyId is missing")


def _skipped_chat(jid: str) -> bool:
    return jid.endswith(("@g.us", "@broadcast", "@newsletter"))


def _phone_and_lid(chat: str, key: Checked) -> tuple[str, str]:
    """The contact's E.164 phone and `@lid` (either may be empty) from a message key.

    Since 2025 WhatsApp may address a chat by a `@lid`, which is not a phone; Evolution
    puts the phone beside it (`senderPn`, or `remoteJidAlt`), and from 2.3 swaps the two
    so `remoteJid` is the phone and `remoteJidAlt` the lid.
    """
    alternates = [key.get(name).optional_string() for name in ("senderPn", "remoteJidAlt")]
    lid = next((jid for jid in [chat, *alternates] if jid.endswith("@lid")), "")
    phone_jid = next((jid for jid in [chat, *alternates] if jid.endswith("@s.whatsapp.net")), "")
    return phone_from_jid(phone_jid), lid


def phone_from_jid(jid: str) -> str:
    """`5511999999999@s.whatsapp.net` -> `+5511999999999`; "" if it is not a phone we can read."""
    digits = jid.split("@", 1)[0].split(":", 1)[0]
    if not is_ascii_digits(digits):
        return ""
    try:
        return normalize_phone("+" + digits)
    except InvalidPhone:
        pass
    # Brazilian mobiles registered before the ninth digit keep a WhatsApp id without it.
    if len(digits) == 12 and digits.startswith("55") and digits[4] in "6789":
        try:
            return normalize_phone(f"+{digits[:4]}9{digits[4:]}")
        except InvalidPhone:
            return ""
    return ""


def _content(message: Checked) -> tuple[str, str, str, str]:
    """(text, media type, file name, mimetype) of a WhatsApp message."""
    if message.missing:
        return "", "", "", ""
    message = message.object()
    if "documentWithCaptionMessage" in message:
        message = message["documentWithCaptionMessage"].get("message").object()
    if "conversation" in message:
        return message["conversation"].optional_string(), "", "", ""
    if "extendedTextMessage" in message:
        return message["extendedTextMessage"].get("text").optional_string(), "", "", ""
    for wire_name, media_type in MEDIA_TYPES.items():
        if wire_name in message:
            media = message[wire_name].object()
            return (
                media.get("caption").optional_string(),
                media_type,
                media.get("fileName").optional_string(),
                media.get("mimetype").optional_string(),
            )
    return "", "", "", ""


def _message_time(item: Checked) -> datetime | None:
    value = item.get("messageTimestamp").value
    if isinstance(value, dict):
        # Older Baileys serialize the protobuf Long as {"low": ..., "high": ..., "unsigned": ...}.
        value = value.get("low")
    return _from_epoch(value)


def _from_epoch(value, *, milliseconds: bool = False) -> datetime | None:
    if is_ascii_digits(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    try:
        seconds = value / 1000 if milliseconds else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _join(keys: list[str]) -> str:
    if len(keys) == 1:
        return keys[0]
    return _hash(*sorted(keys)) if keys else ""


def _hash(*parts) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
