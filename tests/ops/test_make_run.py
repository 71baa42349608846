"""`make run`: Ctrl-C stops every process gracefully and exits 0; a second run says how to reset the password."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.support.workers import ROOT, database_url

pytestmark = pytest.mark.django_db


def test_ctrl_c_lets_the_worker_shut_down_warm_and_exits_0(tmp_path):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis")
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        "worker: celery -A config worker --loglevel INFO --concurrency 2 --without-mingle --without-gossip\n"
    )
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        "SECRET_KEY": "test-only",
        "DEBUG": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges:UserWarning",
    }
    manager = subprocess.Popen(
        [sys.executable, "config/procfile.py", "start", "-f", str(procfile), "-d", str(ROOT)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            line = manager.stdout.readline()
            if not line:
                break
            lines.append(line)
            if " ready." in line:
                break
        if not lines or " ready." not in lines[-1]:
            pytest.fail("the worker did not start:\n" + "".join(lines))
        time.sleep(1)
        os.killpg(manager.pid, signal.SIGINT)  # what Ctrl-C does to the terminal's foreground group
        rest, _ = manager.communicate(timeout=45)
    finally:
        if manager.poll() is None:
            os.killpg(manager.pid, signal.SIGKILL)
    output = "".join(lines) + rest
    assert manager.returncode == 0, output
    assert "Warm shutdown" in output
    assert "SIGKILL" not in output
    assert "worker.1 stopped (rc=0)" in output


def test_a_second_seed_tells_how_to_reset_the_admin_password(capsys, monkeypatch):
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    call_command("seed_demo")
    assert "shown only this once" in capsys.readouterr().out
    call_command("seed_demo")
    assert "manage.py changepassword admin" in capsys.readouterr().out
