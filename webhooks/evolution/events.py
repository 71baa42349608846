"""The small typed events Evolution payloads are parsed into (`webhooks.evolution.parser`).

They carry only what the owning apps need, in our vocabulary: a recipient status
(`sent`, `delivered`, `read`, `failed`), an E.164 phone, an aware UTC time.
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class MessageStatus:
    """`messages.update`: a message we sent moved on (or failed)."""

    message_id: str
    status: str
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class InboundMessage:
    """`messages.upsert` / `send.message`: a message in a one-to-one chat.

    `phone` is empty when the chat is a `@lid` with no phone attached; `from_me` is a
    message sent from the instance's own phone (or the echo of our own send).
    """

    message_id: str
    from_me: bool
    phone: str
    lid: str
    push_name: str
    text: str
    media_type: str = ""
    file_name: str = ""
    mimetype: str = ""
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class ConnectionChange:
    """`connection.update`: `open`, `connecting` or `close`, with Baileys' reason code."""

    state: str
    status_reason: int | None = None
    occurred_at: datetime | None = None

    # Evolution's `codesToNotReconnect` (whatsapp.baileys.service.ts, connectionUpdate):
    # Baileys' loggedOut (401) and forbidden (403), plus 402 and 406. On these Evolution
    # stops reconnecting, logs the instance out and posts this close; any other close it
    # reconnects by itself. So these, and only these, need a new QR login.
    LOGGED_OUT_REASONS = frozenset({401, 402, 403, 406})

    @property
    def needs_qr_login(self) -> bool:
        return self.state == "close" and self.status_reason in self.LOGGED_OUT_REASONS


@dataclass(frozen=True)
class MessageDeleted:
    """`messages.delete`: a message was deleted for everyone."""

    message_id: str
    from_me: bool


@dataclass(frozen=True)
class QrCodeUpdated:
    """`qrcode.updated`: a new code to scan while the number logs in (a data URL of an image).

    It expires within a minute, so it is never stored as an event: the intake hands it to
    the connect page at once (`instances.qr_codes`).
    """

    qr: str
    pairing_code: str = ""


EvolutionEvent = MessageStatus | InboundMessage | ConnectionChange | MessageDeleted | QrCodeUpdated
