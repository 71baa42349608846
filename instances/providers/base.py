"""The one interface every WhatsApp provider client implements.

Errors say whether the message could have gone out, because the dispatcher's
no-duplicate promise rests on it:

- `ProviderRejected`: the provider answered that this message will never go (bad
  number, not on WhatsApp). Fail it; never retry.
- `ProviderUnavailable`: proven not accepted (connection refused, DNS, 429, 5xx).
  Safe to retry with backoff.
- `ProviderOutcomeUnknown`: the request may have reached the provider (e.g. a read
  timeout after the body was sent). Never retried automatically.

Each client calls `about_to_send()` just before a message's request is written, so a caller
watching the send (`watching_sends`) can make a durable note that the message may have left.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _

from instances.providers.choices import Choice, numbered_text


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    accepted_at: datetime
    raw: dict = field(default_factory=dict)


class ProviderError(Exception):
    """`code` names the cause for programs (e.g. "not_on_whatsapp"); the message is for people.

    `instance_level` marks errors about the instance rather than the message (bad API
    key, instance unknown to the provider): every message would fail the same way, so
    callers should stop sending through it rather than fail each recipient.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: str = "",
        code: str = "",
        instance_level: bool = False,
    ):
        super().__init__(message)
        self.status_code = status_code
        self.body = body[:500]
        self.code = code
        self.instance_level = instance_level


class ProviderRejected(ProviderError):
    """The message will never be accepted; do not retry."""


class ProviderUnavailable(ProviderError):
    """The provider did not accept the message; retrying is safe."""


class ProviderOutcomeUnknown(ProviderError):
    """The provider may have accepted the message; never re-send automatically."""


_before_send: ContextVar[Callable[[], None] | None] = ContextVar("before_send", default=None)


@contextmanager
def watching_sends(callback: Callable[[], None]) -> Iterator[None]:
    """Call `callback` just before each message request made inside the block is written.

    An exception `callback` raises stops that send before anything leaves.
    """
    token = _before_send.set(callback)
    try:
        yield
    finally:
        _before_send.reset(token)


def about_to_send() -> None:
    """A provider client's last step before writing a message's request (see `watching_sends`)."""
    callback = _before_send.get()
    if callback is not None:
        callback()


class Provider:
    """What a provider client offers. One module per provider implements it."""

    def send_text(self, instance, phone: str, text: str) -> SendResult:
        raise NotImplementedError

    def send_media(
        self, instance, phone: str, url: str, caption: str = "", filename: str = "", mimetype: str = ""
    ) -> SendResult:
        raise NotImplementedError

    def send_template(self, instance, phone: str, name: str, language: str, components=None) -> SendResult:
        """A provider's approved message template; only Meta's Cloud API has them."""
        raise ProviderRejected(_("This provider has no message templates."), code="unsupported")

    def send_interactive(self, instance, phone: str, interactive: dict) -> SendResult:
        raise ProviderRejected(_("This provider has no interactive messages."), code="unsupported")

    def send_uploaded_media(self, instance, phone: str, media_id: str, kind: str, caption="", filename=""):
        raise ProviderRejected(_("This provider has no uploaded media."), code="unsupported")

    def mark_as_read(self, instance, message_id: str) -> bool:
        raise ProviderRejected(_("This provider cannot mark messages as read."), code="unsupported")

    def send_choice(self, instance, phone: str, choice: Choice) -> SendResult:
        """A prompt and its options; numbered text unless the provider can show them better."""
        return self.send_text(instance, phone, numbered_text(choice))

    def connection_state(self, instance) -> str:
        """One of WhatsAppInstance.ConnectionState."""
        raise NotImplementedError

    def find_sent(self, instance, phone: str, since: datetime) -> list[SendResult] | None:
        """The messages this instance sent to `phone` since `since`, newest first; None: it cannot tell."""
        return None

    def configure_webhook(self, instance, url: str, events: list[str]) -> dict:
        """Point the provider's webhooks at `url`; not every provider can."""
        raise ProviderRejected(_("This provider cannot configure webhooks."), code="unsupported")

    def connect(self, instance) -> dict:
        """Start a QR login: `{"qr": data URL or "", "pairing_code": str, "state": state or ""}`."""
        raise ProviderRejected(
            _("This provider has no QR login: only Evolution API numbers connect with a QR code."), code="unsupported"
        )
