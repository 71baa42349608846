"""The `web` process: `0.0.0.0:$PORT` when PORT is set, and a loud failure when the port is taken."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from tests.support.workers import ROOT, database_url

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn(tmp_path, **env) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": "test-only",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    return output.decode(errors="replace")


def get(url: str, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_port_is_honoured_and_a_second_copy_on_it_fails_loudly(tmp_path):
    port = free_port()
    first = gunicorn(tmp_path, PORT=str(port), WEB_BIND="127.0.0.1:1")  # PORT wins over WEB_BIND
    try:
        assert get(f"http://127.0.0.1:{port}/health") == 200
        for reuse in ("0", "1"):
            second = gunicorn(tmp_path, PORT=str(port), WEB_REUSE_PORT=reuse)
            try:
                second.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pytest.fail(f"a second gunicorn (WEB_REUSE_PORT={reuse}) started on a taken port")
            output = stop(second)
            assert second.returncode != 0
            assert "Connection in use" in output, output
        assert get(f"http://127.0.0.1:{port}/health") == 200  # the first still serves
    finally:
        output = stop(first)
    assert f"Listening at: http://0.0.0.0:{port}" in output, output


def test_web_bind_when_no_port(tmp_path):
    port = free_port()
    process = gunicorn(tmp_path, WEB_BIND=f"127.0.0.1:{port}", PORT="")
    try:
        assert get(f"http://127.0.0.1:{port}/health") == 200
    finally:
        output = stop(process)
    assert f"Listening at: http://127.0.0.1:{port}" in output, output


def answer(url: str, *, data: bytes | None = None, timeout: float = 30) -> tuple[int, dict, bytes, float]:
    """Status, headers, body and seconds taken of one request, once the server listens."""
    deadline = time.monotonic() + timeout
    while True:
        started = time.monotonic()
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read(), time.monotonic() - started
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read(), time.monotonic() - started
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_with_postgresql_down_the_webhook_answers_503_at_once_and_health_names_it(tmp_path):
    port = free_port()
    down = f"postgres://postgres@127.0.0.1:{free_port()}/whatsflow"  # nothing listens there
    process = gunicorn(tmp_path, WEB_BIND=f"127.0.0.1:{port}", PORT="", DATABASE_URL=down)
    try:
        health, _, body, _ = answer(f"http://127.0.0.1:{port}/health")
        payload = b'{"event": "messages.update", "instance": "loja", "data": {}}'
        status, headers, _, took = answer(f"http://127.0.0.1:{port}/api/webhooks/evolution/secret", data=payload)
    finally:
        stop(process)
    assert health == 503 and json.loads(body)["down"] == ["database"], body
    assert status == 503, (status, headers)
    assert took < 5, f"{took:.1f}s to answer"


def post_raw(sock: socket.socket, path: str, body: bytes) -> tuple[bytes, dict, bytes]:
    """One keep-alive POST on `sock`: its status line, headers and body."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    try:
        sock.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    except BrokenPipeError:
        pass  # a body too large to read: the server answered before taking it all
    reader = sock.makefile("rb")
    status, headers = reader.readline().strip(), {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, value = line.decode().split(":", 1)
        headers[name.lower()] = value.strip()
    return status, headers, reader.read(int(headers.get("content-length", 0)))


def test_an_answer_before_the_body_was_read_leaves_the_connection_usable(tmp_path):
    port = free_port()
    process = gunicorn(tmp_path, WEB_BIND=f"127.0.0.1:{port}", PORT="")
    try:
        assert get(f"http://127.0.0.1:{port}/health") == 200
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            deep = b"[" * 5000 + b"]" * 5000
            for body in (b'{"a": "' + b"x" * 5_000_000 + b'"}', deep):
                status, _, _ = post_raw(sock, "/api/v1/contacts/", body)  # 401 before any parsing
                assert status == b"HTTP/1.1 401 Unauthorized"
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert sock.makefile("rb").readline().strip() == b"HTTP/1.1 200 OK"
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            status, headers, body = post_raw(sock, "/api/webhooks/evolution/secret", b"x" * 11 * 1024 * 1024)
            assert status.startswith(b"HTTP/1.1 413") and len(body) == int(headers["content-length"])
            assert sock.recv(10) == b"", "the connection ends cleanly after the whole answer"
    finally:
        stop(process)
