"""Fake partners over real HTTP (each answer one `send` with TCP_NODELAY, via `FakeProviderServer`).

- `FakePontta`: `/auth/login` (Businessunit + email/password -> a JWT with `exp`), `/tickets`.
- `FakeGoogle`: the OAuth token endpoint (checks the service account's signed JWT),
  Sheets `values.get` / `values.append`, Drive multipart upload, and files to download.
- `FakeReceiver`: a third party receiving outbound webhooks, verifying their signatures.
"""

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from email.parser import BytesParser
from email.policy import default as email_policy
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.support.fakes.provider_server import FakeProviderServer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakePontta(FakeProviderServer):
    def __init__(self, *, business_unit="bu-1", email="bot@loja.com", password="s3cret", token_seconds=3600):
        super().__init__()
        self.business_unit, self.email, self.password = business_unit, email, password
        self.token_seconds = token_seconds
        self.valid_tokens: set[str] = set()
        self.tickets: list[dict] = []
        self.logins = 0
        self._tickets_lock = threading.Lock()
        self.respond("POST", r"^/auth/login$", handler=self._login)
        self.respond("POST", r"^/tickets$", handler=self._create_ticket)
        self.respond("GET", r"^/tickets", handler=self._list_tickets)

    def _login(self, request):
        self.logins += 1
        body = request.json or {}
        if request.header("businessunit") != self.business_unit:
            return 400, {"message": "Businessunit header missing or unknown"}
        if body.get("email") != self.email or body.get("password") != self.password:
            return 401, {"message": "Invalid credentials"}
        claims = {"sub": self.email, "exp": int(time.time()) + self.token_seconds, "jti": uuid.uuid4().hex}
        token = ".".join([_b64(b'{"alg":"HS256"}'), _b64(json.dumps(claims).encode()), "sig"])
        self.valid_tokens.add(token)
        return 200, {"token": token}

    def _authorized(self, request) -> bool:
        header = request.header("authorization") or ""
        return (
            request.header("businessunit") == self.business_unit
            and header.startswith("Bearer ")
            and header[7:] in self.valid_tokens
        )

    def _create_ticket(self, request):
        if not self._authorized(request):
            return 401, {"message": "Unauthorized"}
        with self._tickets_lock:
            ticket = {"id": len(self.tickets) + 1001, **(request.json or {})}
            self.tickets.append(ticket)
        return 201, ticket

    def _list_tickets(self, request):
        if not self._authorized(request):
            return 401, {"message": "Unauthorized"}
        wanted = parse_qs(urlsplit(request.path).query).get("contact_id", [""])[0]
        return 200, [t for t in self.tickets if str(t.get("contact_id")) == wanted]

    def revoke_tokens(self) -> None:
        """As if Pontta restarted: every token it gave becomes a 401."""
        self.valid_tokens.clear()


def service_account_key(token_uri: str = "https://oauth2.googleapis.com/token") -> tuple[dict, object]:
    """A fresh service account key file (as Google's JSON) and its public key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "whatsflow-test",
        "private_key_id": uuid.uuid4().hex,
        "private_key": pem,
        "client_email": "bot@whatsflow-test.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
    return info, private.public_key()


class FakeGoogle(FakeProviderServer):
    def __init__(self, public_key=None):
        super().__init__()
        self.public_key = public_key
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.sheets: dict[str, list[list]] = {}
        self.files: dict[str, dict] = {}
        self.downloads: dict[str, bytes] = {}
        self.respond("POST", r"^/token$", handler=self._token)
        self.respond("GET", r"^/v4/spreadsheets/[^/]+/values/", handler=self._values_get)
        self.respond("POST", r"^/v4/spreadsheets/[^/]+/values/[^/]+:append", handler=self._values_append)
        self.respond("POST", r"^/upload/drive/v3/files", handler=self._upload)

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def serve_file(self, path: str, content: bytes, content_type: str = "application/pdf") -> str:
        self.respond("GET", rf"^{re.escape(path)}$", body=content, content_type=content_type)
        return f"{self.url}{path}"

    def _token(self, request):
        self.token_requests += 1
        form = parse_qs(request.body.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return 400, {"error": "unsupported_grant_type"}
        header_b64, claims_b64, signature_b64 = form["assertion"][0].split(".")
        try:
            self.public_key.verify(
                _unb64(signature_b64), f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        claims = json.loads(_unb64(claims_b64))
        # google-auth names Google's endpoint as the audience wherever it posts the assertion.
        if claims.get("aud") != "https://oauth2.googleapis.com/token" or "spreadsheets" not in claims.get("scope", ""):
            return 400, {"error": "invalid_grant", "error_description": f"Bad audience or scope: {claims}"}
        token = "ya29." + uuid.uuid4().hex
        self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def _authorized(self, request) -> bool:
        header = request.header("authorization") or ""
        return header.startswith("Bearer ") and header[7:] in self.tokens

    @staticmethod
    def _sheet_of(path: str) -> tuple[str, str]:
        match = re.match(r"^/v4/spreadsheets/([^/]+)/values/([^/?:]+)", path)
        return unquote(match.group(1)), unquote(match.group(2))

    def _values_get(self, request):
        if not self._authorized(request):
            return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
        spreadsheet, cell_range = self._sheet_of(request.path)
        if spreadsheet not in self.sheets:
            return 404, {"error": {"code": 404, "message": "Requested entity was not found."}}
        return 200, {"range": cell_range, "majorDimension": "ROWS", "values": self.sheets[spreadsheet]}

    def _values_append(self, request):
        if not self._authorized(request):
            return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
        spreadsheet, cell_range = self._sheet_of(request.path)
        rows = self.sheets.setdefault(spreadsheet, [])
        rows.extend((request.json or {}).get("values", []))
        sheet = cell_range.split("!")[0]
        return 200, {"spreadsheetId": spreadsheet, "updates": {"updatedRange": f"{sheet}!A{len(rows)}"}}

    def _upload(self, request):
        if not self._authorized(request):
            return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
        content_type = request.header("content-type")
        message = BytesParser(policy=email_policy).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
        )
        metadata_part, media_part = list(message.iter_parts())
        metadata = json.loads(metadata_part.get_content())
        file_id = uuid.uuid4().hex[:12]
        self.files[file_id] = {
            **metadata,
            "mimeType": media_part.get_content_type(),
            "content": media_part.get_payload(decode=True),
        }
        return 200, {"id": file_id, "webViewLink": f"https://drive.google.com/file/d/{file_id}/view"}


class FakeReceiver(FakeProviderServer):
    """A third party's endpoint: records posts and checks each one's signature with `secret`."""

    def __init__(self, *, secret: str = ""):
        super().__init__()
        self.secret = secret
        self.verified: list[bool] = []
        self.status = 200
        self.respond("POST", r"^/hooks", handler=self._receive)

    def _receive(self, request):
        self.verified.append(self.check_signature(request))
        return self.status, {"ok": self.status < 300}

    def check_signature(self, request) -> bool:
        """What a receiver does (docs/integrations.md), written apart from the code that signs."""
        header = request.header("whatsflow-signature") or ""
        fields = [item.split("=", 1) for item in header.split(",") if "=" in item]
        timestamps = [value for key, value in fields if key == "t"]
        if not timestamps or abs(time.time() - int(timestamps[0])) > 300:
            return False
        signed = timestamps[0].encode() + b"." + request.body
        expected = hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        return any(key == "v1" and hmac.compare_digest(value, expected) for key, value in fields)

    def events(self) -> list[dict]:
        return [r.json for r in self.requests_to(r"^/hooks")]
