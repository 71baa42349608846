"""The only place the integrations app makes HTTP requests (Pontta, Google, HTTP actions, webhooks).

One pooled `requests.Session` per process. Nothing here retries: the caller decides from
the error class (`integrations.errors`). Redirects are not followed (a POST must not be
replayed elsewhere). Connections go through the guarded adapter (`core.http_guard`): link-local and
metadata addresses are never called, loopback and private networks only with
PROVIDER_ALLOW_PRIVATE_NETWORKS (`core.http_guard`), checked at every new connection.
"""

import os
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from urllib3.exceptions import MaxRetryError, NewConnectionError

from core.http_guard import ForbiddenAddress, GuardedAdapter
from integrations.errors import IntegrationOutcomeUnknown, IntegrationRejected, IntegrationUnavailable

_lock = threading.Lock()
_session: requests.Session | None = None
_session_pid: int | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict
    content: bytes
    latency_ms: int

    def json(self):
        import json

        return json.loads(self.content or b"null")

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _get_session() -> requests.Session:
    global _session, _session_pid
    if _session is None or _session_pid != os.getpid():
        with _lock:
            if _session is None or _session_pid != os.getpid():
                session = requests.Session()
                session.trust_env = False
                adapter = GuardedAdapter(pool_connections=10, pool_maxsize=20, max_retries=0)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                _session, _session_pid = session, os.getpid()
    return _session


def request(
    method: str,
    url: str,
    *,
    headers: dict | None = None,
    json=None,
    data: bytes | str | None = None,
    params: dict | None = None,
    timeout: float | None = None,
) -> Answer:
    """Send one request and return the answer, whatever its status; transport failures are classified."""
    host = urlsplit(url).netloc
    read_timeout = timeout if timeout is not None else settings.INTEGRATIONS_READ_TIMEOUT
    started = time.monotonic()
    try:
        response = _get_session().request(
            method,
            url,
            headers=headers,
            json=json,
            data=data,
            params=params,
            timeout=(settings.INTEGRATIONS_CONNECT_TIMEOUT, read_timeout),
            allow_redirects=False,
        )
    except ForbiddenAddress as exc:
        raise IntegrationRejected(f"Refused to call {host}: {exc}", code="forbidden_address") from None
    except requests.ConnectTimeout:
        raise IntegrationUnavailable(f"Timed out connecting to {host}", code="connect_timeout") from None
    except requests.ReadTimeout:
        # The request was written: the partner may have acted before going quiet.
        raise IntegrationOutcomeUnknown(f"No answer from {host} within {read_timeout}s", code="read_timeout") from None
    except requests.exceptions.SSLError as exc:
        raise IntegrationUnavailable(f"TLS handshake with {host} failed: {exc}", code="tls_error") from None
    except requests.ConnectionError as exc:
        if _failed_before_sending(exc):
            raise IntegrationUnavailable(f"Could not connect to {host}", code="connection_failed") from None
        raise IntegrationOutcomeUnknown(f"Connection to {host} dropped before an answer", code="dropped") from None
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
        raise IntegrationRejected(f"Invalid URL: {url}", code="bad_url") from None
    return Answer(
        status=response.status_code,
        headers={k.lower(): v for k, v in response.headers.items()},
        content=response.content,
        latency_ms=int((time.monotonic() - started) * 1000),
    )


def raise_for_answer(answer: Answer, *, what: str) -> None:
    """A 2xx passes; 429 and 5xx prove nothing was done (retry); other codes are final refusals."""
    if answer.ok:
        return
    excerpt = answer.content[:200].decode("utf-8", "replace")
    message = f"{what}: HTTP {answer.status} {excerpt}".strip()
    if answer.status == 429 or answer.status >= 500:
        raise IntegrationUnavailable(message, code=f"http_{answer.status}", status_code=answer.status)
    raise IntegrationRejected(message, code=f"http_{answer.status}", status_code=answer.status)


def _failed_before_sending(exc: requests.ConnectionError) -> bool:
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)
