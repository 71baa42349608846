"""The small typed events Meta's `messages` webhooks are parsed into (`webhooks.cloud.parser`).

In our vocabulary: a recipient status (`sent`, `delivered`, `read`, `failed`), an E.164
phone, an aware UTC time. Meta's own objects that the product keeps as they came
(`errors`, `pricing`, `conversation`) are carried as plain dicts.
"""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class MessageStatus:
    """A message we sent moved on (or failed), with what Meta said about its price and errors."""

    message_id: str
    status: str
    recipient_phone: str = ""
    occurred_at: datetime | None = None
    errors: tuple[dict, ...] = ()
    pricing: dict = field(default_factory=dict)
    conversation: dict = field(default_factory=dict)

    @property
    def error(self) -> dict:
        """The first error as `{"code", "title", "details"}`, {} when there is none."""
        return self.errors[0] if self.errors else {}


@dataclass(frozen=True)
class InboundMessage:
    """A contact wrote to one of our numbers: text, media (by Meta's media id), or a button/list reply.

    `reply_id` is the id our interactive message gave the button or row the contact chose.
    """

    message_id: str
    phone: str
    contact_name: str = ""
    message_type: str = "text"
    text: str = ""
    media_id: str = ""
    mimetype: str = ""
    file_name: str = ""
    reply_id: str = ""
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class TemplateStatus:
    """`message_template_status_update`: Meta approved, rejected, paused or disabled a template."""

    business_account_id: str
    template_id: str
    name: str
    language: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class Unhandled:
    """A well-formed change we do not act on (another field, a message type we do not read)."""

    reason: str


CloudEvent = MessageStatus | InboundMessage | TemplateStatus | Unhandled
