"""Finding 13 of issue 12: with DEBUG=0, `manage.py check --deploy` is clean under the production
environment docs/api.md documents (the test reads it from there, so the two cannot drift)."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def documented_production_env() -> dict:
    text = (ROOT / "docs" / "api.md").read_text()
    block = re.search(r"```env production\n(.*?)```", text, re.S).group(1)
    env = dict(line.split("=", 1) for line in block.strip().splitlines())
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["INTEGRATIONS_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    return env


def _check_deploy(env: dict) -> subprocess.CompletedProcess:
    prefixes = ("SECURE_", "SESSION_", "CSRF_", "INTEGRATIONS_")
    base = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_the_documented_production_environment():
    result = _check_deploy(documented_production_env())
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_without_it_check_deploy_names_what_is_missing():
    env = documented_production_env()
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE"):
        del env[name]
    result = _check_deploy(env)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012"):
        assert warning in result.stderr + result.stdout


def test_without_the_integrations_key_check_deploy_says_how_to_make_one():
    env = documented_production_env()
    del env["INTEGRATIONS_ENCRYPTION_KEYS"]
    result = _check_deploy(env)
    assert result.returncode != 0
    assert "integrations.E001" in result.stderr and "Fernet.generate_key()" in result.stderr
    env["INTEGRATIONS_ENCRYPTION_KEYS"] = "not-a-key"
    assert "invalid Fernet key" in _check_deploy(env).stderr
