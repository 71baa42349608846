"""Any HTTP API: a request with a JSON body and the bearer token of an `http` integration, if one."""

from urllib.parse import urljoin

from integrations import http
from integrations.errors import IntegrationRejected

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _headers(integration) -> dict:
    headers = {"Accept": "application/json"}
    token = integration.get_secrets().get("bearer_token") if integration is not None else ""
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def resolve_url(integration, url: str) -> str:
    base = (integration.settings.get("base_url") or "") if integration is not None else ""
    if base and not url.startswith(("http://", "https://")):
        return urljoin(base.rstrip("/") + "/", url.lstrip("/"))
    if not url.startswith(("http://", "https://")):
        raise IntegrationRejected(f"Not an absolute URL: {url!r}", code="bad_url")
    return url


def call(integration, *, method: str, url: str, body=None) -> dict:
    method = method.upper()
    if method not in METHODS:
        raise IntegrationRejected(f"Unsupported method {method}.", code="bad_method")
    answer = http.request(
        method, resolve_url(integration, url), headers=_headers(integration), json=body if method != "GET" else None
    )
    http.raise_for_answer(answer, what=f"{method} {url}")
    try:
        data = answer.json()
    except ValueError:
        data = answer.content[:2000].decode("utf-8", "replace")
    return {"status": answer.status, "json": data}


def test_connection(integration) -> str:
    path = integration.settings.get("test_path") or "/"
    answer = http.request("GET", resolve_url(integration, path), headers=_headers(integration))
    http.raise_for_answer(answer, what=f"GET {path}")
    return f"HTTP {answer.status} from {path}."
