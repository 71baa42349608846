"""The `web` process: `0.0.0.0:$PORT` when PORT is set, and a loud failure when the port is taken."""

import os
import signal
import socket
import subprocess
import sys
import time
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
