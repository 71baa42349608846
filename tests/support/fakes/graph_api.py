"""A fake of Meta's Graph API (the WhatsApp Cloud API) over real HTTP, and Meta's signed webhooks.

It answers as Meta's pages document: a send is 200 with a `wamid`, a refusal the Graph
API error object (`error.code`, `error.message` "(#code) Title", `error_data.details`,
`fbtrace_id`) with the HTTP status Meta uses for that code. One send per answer with
TCP_NODELAY, as `FakeProviderServer` (which it extends).

    with FakeGraphAPI(token="EAAG-test") as graph:
        graph.refuse("5511999990000", 131026)        # every send to that number, refused
        graph.refuse_next(130429)                      # the next send, refused once
        ... settings.CLOUD_API_BASE_URL = graph.url ...
        graph.sends[0].json["to"] == "5511999999999"

`post_webhook(url, payload, app_secret)` posts a body as Meta does, signed with
`X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body under the app secret>`.
"""

import hashlib
import hmac
import json
import re
import threading
import urllib.error
import urllib.request
import uuid

from tests.support.fakes.provider_server import FakeProviderServer, RecordedRequest

# code: (HTTP status, title, details), as Meta's error codes page gives them.
ERRORS = {
    0: (401, "AuthException", "We were unable to authenticate the app user."),
    190: (401, "Access token has expired", "Error validating access token: Session has expired."),
    130429: (400, "Rate limit hit", "Cloud API message throughput has been reached."),
    131000: (500, "Something went wrong", "Message failed to send due to an unknown error."),
    131008: (400, "Required parameter is missing", "The parameter text['body'] is required."),
    131026: (400, "Message Undeliverable", "Unable to deliver message."),
    131047: (
        400,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied.",
    ),
    131049: (
        400,
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    131056: (
        400,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from the sender phone number to the same recipient phone number in a short period.",
    ),
    132000: (
        400,
        "Number of parameters does not match the expected number of params",
        "body: number of localizable_params (0) does not match the expected number of params (1)",
    ),
    132001: (404, "Template does not exist", "template name (promo_natal) does not exist in pt_BR"),
    135000: (
        400,
        "Generic user error",
        "Message failed to send because of an unknown error with your request parameters.",
    ),
}


def error_answer(code: int, *, details: str | None = None) -> tuple[int, dict]:
    status, title, default_details = ERRORS[code]
    return status, {
        "error": {
            "message": f"(#{code}) {title}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": default_details if details is None else details},
            "fbtrace_id": "A" + uuid.uuid4().hex[:22],
        }
    }


def signature(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(url: str, payload: dict, app_secret: str) -> tuple[int, bytes]:
    """POST `payload` to `url` as Meta does; returns (status, body)."""
    body = json.dumps(payload).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature(body, app_secret)},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


class FakeGraphAPI(FakeProviderServer):
    def __init__(self, *args, token: str = "EAAG-test-token", **kwargs):
        super().__init__(*args, **kwargs)
        self.token = token
        self.health = {"status": "CONNECTED", "quality_rating": "GREEN"}
        self._refusals: dict[str, int] = {}
        self._next: list[int] = []
        self._refusal_lock = threading.Lock()
        # The account's templates, as `GET /{waba-id}/message_templates` lists them (`page_size` a page).
        self.templates: list[dict] = []
        self.page_size = 100

    def refuse(self, phone_digits: str, code: int) -> None:
        """Refuse every send to this number with Meta's error `code`."""
        self._refusals[phone_digits] = code

    def refuse_next(self, code: int, times: int = 1) -> None:
        with self._refusal_lock:
            self._next.extend([code] * times)

    @property
    def sends(self) -> list[RecordedRequest]:
        return [r for r in self.requests_to(r"/messages$") if (r.json or {}).get("status") != "read"]

    def default_answer(self, request: RecordedRequest) -> tuple[int, object]:
        path = request.path.split("?", 1)[0]
        match = re.fullmatch(r"/v\d+\.\d+/(\d+)(/messages|/media|/message_templates)?", path)
        if match is None:
            return 400, {"error": {"message": "Unknown path components", "type": "OAuthException", "code": 2500}}
        if request.header("authorization") != f"Bearer {self.token}":
            return error_answer(190)
        phone_number_id, edge = match.groups()
        if edge is None and request.method == "GET":
            return 200, {"id": phone_number_id, "display_phone_number": "+55 11 4000-0000", **self.health}
        if edge == "/message_templates":
            return 200, self._templates_page(request.path)
        if edge == "/media":
            return 200, {"id": str(uuid.uuid4().int)[:16]}
        body = request.json or {}
        if body.get("messaging_product") != "whatsapp":
            return error_answer(135000, details="messaging_product must be whatsapp")
        if body.get("status") == "read":
            return 200, {"success": True}
        with self._refusal_lock:
            code = self._next.pop(0) if self._next else self._refusals.get(str(body.get("to")))
        if code is not None:
            return error_answer(code)
        if body.get("type") == "text" and not (body.get("text") or {}).get("body"):
            return error_answer(131008)
        to = str(body.get("to", ""))
        wamid = "wamid.HBgN" + uuid.uuid4().hex.upper()
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }

    def _templates_page(self, target: str) -> dict:
        query = dict(part.split("=", 1) for part in target.partition("?")[2].split("&") if "=" in part)
        start = int(query.get("after") or 0)
        page = self.templates[start : start + self.page_size]
        answer = {"data": page, "paging": {"cursors": {"before": str(start), "after": str(start + len(page))}}}
        if start + len(page) < len(self.templates):
            answer["paging"]["next"] = f"{self.url}{target.split('?')[0]}?after={start + len(page)}"
        return answer


def template(name: str, *, language: str = "pt_BR", status: str = "APPROVED", category: str = "MARKETING") -> dict:
    """A template as Meta's list answers it."""
    return {
        "id": str(abs(hash((name, language))) % 10**15),
        "name": name,
        "language": language,
        "status": status,
        "category": category,
        "quality_score": {"score": "GREEN"},
        "components": [{"type": "BODY", "text": "Olá {{1}}, seu desconto é {{2}}"}],
    }
