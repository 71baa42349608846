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


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    accepted_at: datetime
    raw: dict = field(default_factory=dict)


class ProviderError(Exception):
    def __init__(self, message: str, *, status_code: int | None = None, body: str = ""):
        super().__init__(message)
        self.status_code = status_code
        self.body = body


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

    def connection_state(self, instance) -> str:
        """One of WhatsAppInstance.ConnectionState."""
        raise NotImplementedError
