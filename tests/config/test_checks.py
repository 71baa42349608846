import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def check(**env) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "DEBUG")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_check_fails_without_a_secret_key_outside_debug():
    result = check(DEBUG="0")

    assert result.returncode != 0
    assert "config.E001" in result.stderr and "SECRET_KEY is not set" in result.stderr


def test_check_passes_with_a_secret_key_or_in_debug():
    assert check(DEBUG="0", SECRET_KEY="a-real-key-from-the-environment").returncode == 0
    assert check(DEBUG="1").returncode == 0
