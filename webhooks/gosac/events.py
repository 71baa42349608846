"""The small typed events GOSAC payloads are parsed into (`webhooks.gosac.parser`)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class IncomingMessage:
    """A message a contact sent to one of our numbers, as the provider reported it.

    `media_type` is the provider's word ("chat", "application", "image", ...);
    `contact_id` / `ticket_id` are the provider's own ids (GOSAC answers by contact id).
    """

    provider: str
    message_id: str
    phone: str
    contact_name: str = ""
    contact_id: str = ""
    ticket_id: str = ""
    ticket_status: str = ""
    ticket_user_id: str = ""
    text: str = ""
    media_type: str = "chat"
    media_url: str = ""
    media_path: str = ""
    mimetype: str = ""
    file_name: str = ""
    from_me: bool = False
    from_group: bool = False


@dataclass(frozen=True)
class Unhandled:
    """A well-formed event we do not act on (answered 200 with `reason`)."""

    reason: str
