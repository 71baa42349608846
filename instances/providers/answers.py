"""Reading providers' HTTP answers: JSON bodies, timestamps and the status classes."""

from datetime import UTC, datetime

import requests
from django.utils import timezone

from instances.providers.base import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable


def json_or_none(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return None


def parse_timestamp(value) -> datetime:
    """Provider epoch seconds (int, or a string in Evolution v1) as an aware datetime; now if absent."""
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return timezone.now()


def accepted_json(response: requests.Response, provider: str) -> dict:
    """The body of a 2xx answer. Accepted but unreadable means we cannot know what was sent."""
    payload = json_or_none(response)
    if not isinstance(payload, dict):
        raise ProviderOutcomeUnknown(
            f"{provider} accepted the request but its answer is not a JSON object",
            status_code=response.status_code,
            body=response.text,
            code="unreadable_answer",
        )
    return payload


def raise_for_status_class(response: requests.Response, provider: str, detail: str) -> None:
    """The classification every provider shares; provider-specific 4xx are decided before this."""
    status = response.status_code
    if status == 429:
        raise ProviderUnavailable(
            f"{provider} is rate limiting (429): {detail}", status_code=status, body=response.text, code="rate_limited"
        )
    if status >= 500:
        raise ProviderUnavailable(
            f"{provider} failed ({status}): {detail}", status_code=status, body=response.text, code="server_error"
        )
    if status in (401, 403):
        raise ProviderRejected(
            f"{provider} refused the credentials ({status}): {detail}",
            status_code=status,
            body=response.text,
            code="unauthorized",
            instance_level=True,
        )
    if 300 <= status < 400:
        raise ProviderRejected(
            f"{provider} redirected the request ({status}); check the base URL",
            status_code=status,
            body=response.text,
            code="bad_configuration",
            instance_level=True,
        )
    raise ProviderRejected(
        f"{provider} rejected the request ({status}): {detail}", status_code=status, body=response.text, code="rejected"
    )
