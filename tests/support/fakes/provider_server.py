"""A fake WhatsApp provider (Evolution API and GOSAC) over real HTTP, for tests and benchmarks.

It answers every request in a single `send` with TCP_NODELAY: `http.server` writes the
headers and the body separately, and with keep-alive the client's delayed ACKs then cap
it near 25 requests/s, so every benchmark against it would measure the kernel's timer.

    with FakeProviderServer() as server:
        server.respond("POST", r"/message/sendText/", status=400, json={...}, times=1)
        ... point an instance's base_url at server.url ...
        assert server.requests[0].json["number"] == "5511999999999"

Run alone for benchmarks: `python -m tests.support.fakes.provider_server --port 8765`
(`GET /__count` answers how many requests it has recorded). With `--report-statuses URL`
it posts each sent message's statuses back to URL (`status_reporter`; `GET /__reporter`
answers how many are posted and still due).
"""

import argparse
import json
import re
import socket
import socketserver
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    @property
    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class ScriptedAnswer:
    method: str
    path: re.Pattern
    status: int = 200
    json: object = None
    body: bytes | None = None
    content_type: str = "application/json"
    delay: float = 0.0
    close: bool = False
    times: int | None = None
    handler: object = None
    used: int = field(default=0)

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method) or not self.path.search(path):
            return False
        return self.times is None or self.used < self.times


def evolution_send_answer(request: RecordedRequest, instance_name: str) -> tuple[int, dict]:
    payload = request.json or {}
    number = str(payload.get("number", ""))
    text = payload.get("text") or (payload.get("textMessage") or {}).get("text") or ""
    return 201, {
        "key": {"remoteJid": f"{number}@s.whatsapp.net", "fromMe": True, "id": "3EB0" + uuid.uuid4().hex[:16].upper()},
        "pushName": "",
        "status": "PENDING",
        "message": {"conversation": text},
        "messageType": "conversation",
        "messageTimestamp": int(time.time()),
        "instanceId": str(uuid.uuid5(uuid.NAMESPACE_DNS, instance_name)),
        "source": "unknown",
    }


# A 1x1 PNG, as Evolution's `instance/connect` answers a QR code (a data URL of a PNG).
FAKE_QR = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def default_answer(request: RecordedRequest) -> tuple[int, object]:
    path = request.path.split("?", 1)[0]
    if match := re.fullmatch(r"/message/send(?:Text|Media)/([^/]+)", path):
        return evolution_send_answer(request, match.group(1))
    if match := re.fullmatch(r"/instance/connectionState/([^/]+)", path):
        return 200, {"instance": {"instanceName": match.group(1), "state": "open"}}
    if match := re.fullmatch(r"/instance/connect/([^/]+)", path):
        return 200, {"pairingCode": None, "code": "2@fake-" + match.group(1), "base64": FAKE_QR, "count": 1}
    if match := re.fullmatch(r"/webhook/set/([^/]+)", path):
        return 201, {"webhook": {"instanceName": match.group(1), **(request.json or {})}}
    if path == "/send-message":
        return 200, {"id": uuid.uuid4().hex, "status": "sent"}
    if match := re.fullmatch(r"/contacts/([^/]+)", path):
        return 200, {"id": match.group(1), "name": "Contato", "number": "5511999999999"}
    return 404, {"status": 404, "error": "Not Found", "response": {"message": [f"Cannot {request.method} {path}"]}}


class _Handler(socketserver.StreamRequestHandler):
    server: "_TCPServer"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self):
        while True:
            request = self._read_request()
            if request is None:
                return
            keep_alive = request.headers.get("connection", "").lower() != "close"
            if not self.server.owner._answer(self, request, keep_alive):
                return
            if not keep_alive:
                return

    def _read_request(self) -> RecordedRequest | None:
        try:
            line = self.rfile.readline(65537)
        except (ConnectionError, OSError):
            return None
        if not line or not line.strip():
            return None
        method, target, _version = line.decode("latin-1").split(" ", 2)
        headers = {}
        while True:
            header = self.rfile.readline(65537)
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        return RecordedRequest(method, target, headers, body, time.time())

    def send_all(self, status: int, body: bytes, content_type: str, keep_alive: bool) -> None:
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        ).encode("latin-1")
        self.wfile.write(head + body)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    owner: "FakeProviderServer"


class FakeProviderServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, record: bool = True, reporter=None):
        self.reporter = reporter  # a StatusReporter: sends get their statuses posted back
        self._server = _TCPServer((host, port), _Handler)
        self._server.owner = self
        self._lock = threading.Lock()
        self._script: list[ScriptedAnswer] = []
        self._thread: threading.Thread | None = None
        self.record = record
        self.requests: list[RecordedRequest] = []
        self.count = 0

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeProviderServer":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeProviderServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def respond(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 200,
        json: object = None,
        body: bytes | str | None = None,
        content_type: str = "application/json",
        delay: float = 0.0,
        close: bool = False,
        times: int | None = None,
        handler=None,
    ) -> ScriptedAnswer:
        """Script an answer; the first matching one wins, `times=N` answers N times only.

        `close=True` drops the connection without answering; `handler(request)` may
        return `(status, json)` computed from the request.
        """
        if isinstance(body, str):
            body = body.encode()
        answer = ScriptedAnswer(
            method.upper(), re.compile(path_regex), status, json, body, content_type, delay, close, times, handler
        )
        with self._lock:
            self._script.append(answer)
        return answer

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.count = 0

    def default_answer(self, request: RecordedRequest) -> tuple[int, object]:
        """The answer to an unscripted request (a subclass answers as its provider does)."""
        return default_answer(request)

    def requests_to(self, path_regex: str, method: str = "POST") -> list[RecordedRequest]:
        pattern = re.compile(path_regex)
        with self._lock:
            return [r for r in self.requests if r.method == method and pattern.search(r.path)]

    def _answer(self, handler: _Handler, request: RecordedRequest, keep_alive: bool) -> bool:
        if request.path == "/__count":
            handler.send_all(200, str(self.count).encode(), "text/plain", keep_alive)
            return True
        if request.path == "/__reporter" and self.reporter is not None:
            state = {"posted": self.reporter.posted, "errors": self.reporter.errors, "due": self.reporter.pending()}
            handler.send_all(200, json.dumps(state).encode(), "application/json", keep_alive)
            return True
        with self._lock:
            self.count += 1
            if self.record:
                self.requests.append(request)
            answer = next((a for a in self._script if a.matches(request.method, request.path)), None)
            if answer is not None:
                answer.used += 1
        if answer is None:
            status, payload = self.default_answer(request)
            body, content_type = json.dumps(payload).encode(), "application/json"
            if self.reporter is not None and status == 201 and request.path.startswith("/message/send"):
                self.reporter.sent(
                    instance_name=request.path.rsplit("/", 1)[-1],
                    message_id=payload["key"]["id"],
                    number=str((request.json or {}).get("number", "")),
                )
        else:
            if answer.delay:
                time.sleep(answer.delay)
            if answer.close:
                return False
            if answer.handler is not None:
                status, payload = answer.handler(request)
                body, content_type = json.dumps(payload).encode(), "application/json"
            else:
                status = answer.status
                body = answer.body if answer.body is not None else json.dumps(answer.json).encode()
                content_type = answer.content_type
        try:
            handler.send_all(status, body, content_type, keep_alive)
        except OSError:
            return False
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-record", action="store_true", help="count requests without keeping them")
    parser.add_argument("--report-statuses", metavar="URL", help="post each send's messages.update statuses here")
    parser.add_argument("--duplicates", type=float, default=0.2, help="share of statuses posted twice")
    args = parser.parse_args()
    reporter = None
    if args.report_statuses:
        from tests.support.fakes.status_reporter import StatusReporter

        reporter = StatusReporter(args.report_statuses, duplicates=args.duplicates)
    server = FakeProviderServer(args.host, args.port, record=not args.no_record, reporter=reporter)
    print(f"fake provider listening on {server.url}", flush=True)
    try:
        server._server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
