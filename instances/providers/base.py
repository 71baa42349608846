"""The one interface every WhatsApp provider client implements.

Errors say whether the message could have gone out, because the dispatcher's
no-duplicate promise rests on it:

- `ProviderRejected`: the provider answered that this message will never go (bad
  number, not on WhatsApp). Fail it; never retry.
- `ProviderUnavailable`: proven not accepted (connection refused, DNS, 429, 5xx).
  Safe to retry with backoff.
- `ProviderOutcomeUnknown`: the request may have reached the provider (e.g. a read
  timeout after the body was sent). Never retried automatically.
"""

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


class Provider:
    """What a provider client offers. One module per provider implements it."""

    def send_text(self, instance, phone: str, text: str) -> SendResult:
        raise NotImplementedError

    def send_media(
        self, instance, phone: str, url: str, caption: str = "", filename: str = "", mimetype: str = ""
    ) -> SendResult:
        raise NotImplementedError

    def send_choice(self, instance, phone: str, choice: Choice) -> SendResult:
        """A prompt and its options; numbered text unless the provider can show them better."""
        return self.send_text(instance, phone, numbered_text(choice))

    def connection_state(self, instance) -> str:
        """One of WhatsAppInstance.ConnectionState."""
        raise NotImplementedError

    def configure_webhook(self, instance, url: str, events: list[str]) -> dict:
        """Point the provider's webhooks at `url`; not every provider can."""
        raise ProviderRejected(_("This provider cannot configure webhooks."), code="unsupported")

    def connect(self, instance) -> dict:
        """Start a QR login: `{"qr": data URL or "", "pairing_code": str, "state": state or ""}`."""
        raise ProviderRejected(
            _("This provider has no QR login: only Evolution API numbers connect with a QR code."), code="unsupported"
        )
