"""Pontta ERP (SEED-CONTRACT §6): login with `Businessunit`, then tickets with the bearer token.

The token is kept per integration in the cache (shared by every process) until shortly
before its expiry (the JWT's `exp`, else an hour). A 401 on a call logs in again once and
repeats the call (a 401 proves the call did nothing); a second 401 is a clear error.
"""

import base64
import hashlib
import json
import logging
import time

from django.conf import settings
from django.core.cache import cache

from integrations import http
from integrations.errors import IntegrationRejected

logger = logging.getLogger(__name__)

DEFAULT_TOKEN_SECONDS = 3600


def _base(integration) -> str:
    return integration.settings["base_url"].rstrip("/")


def _token_key(integration) -> str:
    # Changing the URL, the business unit or the secrets makes a new key (a fresh login).
    fingerprint = hashlib.sha256(
        f"{integration.settings.get('base_url')}|{integration.settings.get('business_unit')}|"
        f"{integration.secrets_encrypted}".encode()
    ).hexdigest()[:16]
    return f"integrations:pontta:token:{integration.id}:{fingerprint}"


def _expires_in(token: str) -> int:
    """Seconds until the JWT's `exp` (an hour when the token is not a JWT we can read)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return int(claims["exp"] - time.time())
    except (IndexError, ValueError, KeyError, TypeError):
        return DEFAULT_TOKEN_SECONDS


def login(integration) -> str:
    """Log in and cache the token; returns it."""
    secrets = integration.get_secrets()
    answer = http.request(
        "POST",
        f"{_base(integration)}/auth/login",
        headers={"Businessunit": integration.settings["business_unit"]},
        json={"email": secrets.get("email", ""), "password": secrets.get("password", "")},
    )
    if answer.status in (401, 403):
        raise IntegrationRejected(
            f"Pontta refused the login (HTTP {answer.status}): check the email, password and business unit.",
            code="login_refused",
            status_code=answer.status,
        )
    http.raise_for_answer(answer, what="Pontta login")
    try:
        token = answer.json()["token"]
    except (ValueError, KeyError, TypeError):
        raise IntegrationRejected("Pontta's login answer has no token.", code="bad_answer") from None
    ttl = _expires_in(token) - settings.INTEGRATIONS_PONTTA_TOKEN_MARGIN_SECONDS
    if ttl > 0:
        cache.set(_token_key(integration), token, timeout=ttl)
    logger.info("pontta integration %s: logged in, token kept %ss", integration.id, max(ttl, 0))
    return token


def token(integration) -> str:
    return cache.get(_token_key(integration)) or login(integration)


def _call(integration, method: str, path: str, **kwargs) -> http.Answer:
    headers = {"Businessunit": integration.settings["business_unit"]}
    answer = http.request(
        method,
        f"{_base(integration)}{path}",
        headers={**headers, "Authorization": f"Bearer {token(integration)}"},
        **kwargs,
    )
    if answer.status == 401:
        cache.delete(_token_key(integration))
        answer = http.request(
            method,
            f"{_base(integration)}{path}",
            headers={**headers, "Authorization": f"Bearer {login(integration)}"},
            **kwargs,
        )
        if answer.status == 401:
            raise IntegrationRejected(
                "Pontta answered 401 even with a fresh token: the user may lack access to this business unit.",
                code="unauthorized",
                status_code=401,
            )
    http.raise_for_answer(answer, what=f"Pontta {method} {path}")
    return answer


def create_ticket(integration, *, contact_id: str, subject: str, message: str) -> dict:
    answer = _call(
        integration,
        "POST",
        "/tickets",
        json={"contact_id": contact_id, "subject": subject, "message": message, "status": "open"},
    )
    try:
        ticket = answer.json()
    except ValueError:
        ticket = None
    if not isinstance(ticket, dict):
        raise IntegrationRejected("Pontta's ticket answer is not a JSON object.", code="bad_answer")
    return ticket


def list_tickets(integration, *, contact_id: str) -> list:
    answer = _call(integration, "GET", "/tickets", params={"contact_id": contact_id})
    data = answer.json()
    if isinstance(data, dict):
        data = data.get("data") or data.get("tickets") or []
    return data if isinstance(data, list) else []


def test_connection(integration) -> str:
    cache.delete(_token_key(integration))
    login(integration)
    return "Logged in to Pontta."
