"""The one HTTP session provider clients share, and how transport failures are classified.

One `requests.Session` per process keeps connections to each provider alive between
sends (a Celery prefork child builds its own after the fork). Nothing here retries:
a retry is the dispatcher's decision, made from the error class.

What requests takes from the environment (proxies and `NO_PROXY`, a CA bundle, `~/.netrc`)
is read once per provider origin and process, not on every call: requests would scan
`os.environ` and look for a netrc file on each send, a visible share of a dispatcher's time.

Every connection the session opens is checked against `core.http_guard` (no link-local
or metadata address ever, loopback and private ones only with PROVIDER_ALLOW_PRIVATE_NETWORKS):
each address the host resolves to before connecting, and the peer after. It costs a lookup per
new connection, not per request, since connections are pooled.
"""

import os
import threading
from urllib.parse import urlsplit

import requests
from django.conf import settings
from urllib3.exceptions import MaxRetryError, NewConnectionError

from core.http_guard import ForbiddenAddress, GuardedAdapter, check_url
from instances.providers.base import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable

_lock = threading.Lock()
_session: requests.Session | None = None
_session_pid: int | None = None
_environment: dict[str, dict] = {}


def get_session() -> requests.Session:
    global _session, _session_pid
    if _session is None or _session_pid != os.getpid():
        with _lock:
            if _session is None or _session_pid != os.getpid():
                session = requests.Session()
                session.trust_env = False  # read once per origin instead (`_environment_for`)
                adapter = GuardedAdapter(
                    pool_connections=settings.PROVIDER_POOL_CONNECTIONS,
                    pool_maxsize=settings.PROVIDER_POOL_MAXSIZE,
                    max_retries=0,
                )
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                _session, _session_pid = session, os.getpid()
    return _session


def request(
    method: str,
    url: str,
    *,
    headers: dict | None = None,
    json: dict | None = None,
    data: dict | None = None,
    files: dict | None = None,
) -> requests.Response:
    """Send one request (a JSON body, or a form with `files`); transport failures come back as classified errors."""
    parts = urlsplit(url)
    host = parts.netloc
    timeout = (settings.PROVIDER_CONNECT_TIMEOUT, settings.PROVIDER_READ_TIMEOUT)
    environment = _environment_for(f"{parts.scheme}://{host}/")
    try:
        if environment["proxies"]:
            # Through a proxy the socket reaches the proxy, not the host: check the host's name here.
            check_url(url, must_resolve=False)
        return get_session().request(
            method,
            url,
            headers=headers,
            json=json,
            data=data,
            files=files,
            timeout=timeout,
            allow_redirects=False,
            **environment,
        )
    except ForbiddenAddress as exc:
        raise ProviderRejected(
            f"Refused to call {host}: {exc}", code="forbidden_address", instance_level=True
        ) from None
    except requests.ConnectTimeout:
        raise ProviderUnavailable(f"Timed out connecting to {host}", code="connect_timeout") from None
    except requests.ReadTimeout:
        # The request was written; the provider may have accepted it before going quiet.
        raise ProviderOutcomeUnknown(f"No answer from {host} within the read timeout", code="read_timeout") from None
    except requests.exceptions.SSLError as exc:
        raise ProviderUnavailable(f"TLS handshake with {host} failed: {exc}", code="tls_error") from None
    except requests.ConnectionError as exc:
        if _failed_before_sending(exc):
            raise ProviderUnavailable(f"Could not connect to {host}", code="connection_failed") from None
        # Dropped mid-exchange: the body may have reached the provider.
        raise ProviderOutcomeUnknown(
            f"Connection to {host} dropped before an answer", code="connection_dropped"
        ) from None
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
        raise ProviderRejected(f"Invalid provider URL: {url}", code="bad_configuration", instance_level=True) from None


def _environment_for(origin: str) -> dict:
    """The proxies, CA bundle and netrc credentials requests would take from the environment for `origin`."""
    environment = _environment.get(origin)
    if environment is None:
        probe = requests.Session()  # trusts the environment, as requests does by default
        found = probe.merge_environment_settings(origin, {}, None, None, None)
        environment = {
            "proxies": found["proxies"],
            "verify": found["verify"],
            "cert": found["cert"],
            "auth": requests.utils.get_netrc_auth(origin),
        }
        probe.close()
        _environment[origin] = environment
    return environment


def _failed_before_sending(exc: requests.ConnectionError) -> bool:
    """True for refused connections and DNS failures (nothing was written to the socket)."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)
