"""Google Sheets and Drive with a service account (google-auth + google-api-python-client).

The API descriptions are the discovery documents bundled with the client (nothing is
fetched at run time). Every request, the token's included, goes through
`integrations.http`: google-auth gets a transport over it and the API client an
httplib2-shaped object over it, so errors keep this app's classification. For tests,
`INTEGRATIONS_GOOGLE_API_ROOT_URL` and `INTEGRATIONS_GOOGLE_TOKEN_URI` point both at a fake.
"""

import hashlib
import json
import threading

import google.auth.exceptions
import google.auth.transport
import httplib2
from django.conf import settings
from google.oauth2 import service_account
from googleapiclient import discovery, discovery_cache
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaInMemoryUpload

from integrations import http
from integrations.errors import IntegrationError, IntegrationRejected, IntegrationUnavailable

SCOPES = ["https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/drive"]

_lock = threading.Lock()
_credentials: dict[tuple, service_account.Credentials] = {}


class _AuthResponse(google.auth.transport.Response):
    def __init__(self, answer: http.Answer):
        self._answer = answer

    @property
    def status(self):
        return self._answer.status

    @property
    def headers(self):
        return self._answer.headers

    @property
    def data(self):
        return self._answer.content


class _AuthTransport(google.auth.transport.Request):
    """google-auth's token requests, through `integrations.http`."""

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        return _AuthResponse(http.request(method, url, headers=headers, data=body, timeout=timeout))


class _Http:
    """What googleapiclient calls `http`: `request(uri, method, body, headers)` -> (response, content)."""

    def __init__(self, credentials: service_account.Credentials):
        self.credentials = credentials

    def request(self, uri, method="GET", body=None, headers=None, redirections=5, connection_type=None):
        answer = self._send(uri, method, body, headers)
        if answer.status == 401:
            _refresh(self.credentials, force=True)
            answer = self._send(uri, method, body, headers)
        response = httplib2.Response({**answer.headers, "status": str(answer.status)})
        return response, answer.content

    def _send(self, uri, method, body, headers) -> http.Answer:
        _refresh(self.credentials)
        headers = {**(headers or {}), "authorization": f"Bearer {self.credentials.token}"}
        return http.request(method, uri, headers=headers, data=body)

    def close(self):
        pass


def _refresh(credentials, *, force: bool = False) -> None:
    if credentials.valid and not force:
        return
    try:
        credentials.refresh(_AuthTransport())
    except google.auth.exceptions.RefreshError as exc:
        error = IntegrationUnavailable if getattr(exc, "retryable", False) else IntegrationRejected
        raise error(f"Google refused the service account's token request: {exc}", code="token_refused") from None


def credentials_for(integration) -> service_account.Credentials:
    fingerprint = hashlib.sha256(integration.secrets_encrypted.encode()).hexdigest()[:16]
    cache_key = (integration.id, fingerprint, settings.INTEGRATIONS_GOOGLE_TOKEN_URI)
    with _lock:
        credentials = _credentials.get(cache_key)
    if credentials is None:
        info = dict(integration.get_secrets().get("service_account") or {})
        if settings.INTEGRATIONS_GOOGLE_TOKEN_URI:
            info["token_uri"] = settings.INTEGRATIONS_GOOGLE_TOKEN_URI
        info.setdefault("token_uri", "https://oauth2.googleapis.com/token")
        try:
            credentials = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
        except (ValueError, KeyError) as exc:
            raise IntegrationRejected(f"The service account key is not usable: {exc}", code="bad_key") from None
        with _lock:
            _credentials[cache_key] = credentials
    return credentials


def _service(integration, name: str, version: str):
    document = json.loads(discovery_cache.get_static_doc(name, version))
    if settings.INTEGRATIONS_GOOGLE_API_ROOT_URL:
        document["rootUrl"] = settings.INTEGRATIONS_GOOGLE_API_ROOT_URL.rstrip("/") + "/"
    return discovery.build_from_document(document, http=_Http(credentials_for(integration)))


def _execute(request):
    try:
        return request.execute(num_retries=0)
    except HttpError as exc:
        status = exc.resp.status
        message = f"Google API: HTTP {status} {exc.reason or ''}".strip()
        if status == 429 or status >= 500:
            raise IntegrationUnavailable(message, code=f"http_{status}", status_code=status) from None
        raise IntegrationRejected(message, code=f"http_{status}", status_code=status) from None


def append_row(integration, *, spreadsheet_id: str, sheet: str, values: list) -> dict:
    sheets = _service(integration, "sheets", "v4")
    answer = _execute(
        sheets.spreadsheets()
        .values()
        .append(
            spreadsheetId=spreadsheet_id,
            range=sheet,
            valueInputOption="USER_ENTERED",
            insertDataOption="INSERT_ROWS",
            body={"values": [values]},
        )
    )
    return {"updated_range": (answer.get("updates") or {}).get("updatedRange", "")}


def lookup_row(integration, *, spreadsheet_id: str, sheet: str, column: str, value: str) -> dict | None:
    """The first row (as {header: cell}) whose `column` equals `value`, headers in the first row."""
    sheets = _service(integration, "sheets", "v4")
    answer = _execute(sheets.spreadsheets().values().get(spreadsheetId=spreadsheet_id, range=sheet))
    rows = answer.get("values") or []
    if not rows:
        return None
    headers = [str(h).strip() for h in rows[0]]
    if column not in headers:
        raise IntegrationRejected(
            f"The sheet has no column {column!r} (it has {', '.join(headers)}).", code="no_column"
        )
    index = headers.index(column)
    for row in rows[1:]:
        if index < len(row) and str(row[index]).strip() == str(value).strip():
            return {header: (row[i] if i < len(row) else "") for i, header in enumerate(headers)}
    return None


def upload_file(integration, *, folder_id: str, name: str, mimetype: str, content: bytes) -> dict:
    drive = _service(integration, "drive", "v3")
    body = {"name": name, **({"parents": [folder_id]} if folder_id else {})}
    media = MediaInMemoryUpload(content, mimetype=mimetype or "application/octet-stream", resumable=False)
    answer = _execute(drive.files().create(body=body, media_body=media, fields="id,webViewLink"))
    return {"file_id": answer.get("id", ""), "link": answer.get("webViewLink", "")}


def test_connection(integration) -> str:
    credentials = credentials_for(integration)
    try:
        _refresh(credentials, force=True)
    except IntegrationError:
        raise
    return f"Token obtained for {credentials.service_account_email}."
