"""docs/operations.md: every shell block is run here, or says why it is not.

Blocks marked `<!-- ops-test: run -->` run in order, each in `bash -e`, in the project's
folder, against the test database and Redis; what a block exports is kept for the next.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.support.workers import ROOT, database_url

DOC = ROOT / "docs" / "operations.md"
BLOCK = re.compile(r"(?:<!-- ops-test: (?P<mark>[^>]*?) -->\n)?```sh\n(?P<body>.*?)```", re.S)

pytestmark = pytest.mark.django_db


def blocks() -> list[tuple[str, str]]:
    return [(match["mark"] or "", match["body"]) for match in BLOCK.finditer(DOC.read_text())]


def test_every_shell_block_is_run_or_says_why_not():
    found = blocks()
    assert len([mark for mark, _ in found if mark == "run"]) >= 4
    for mark, body in found:
        assert mark == "run" or re.fullmatch(r"skip: .{10,}", mark), f"unmarked block:\n{body}"


def test_the_runnable_blocks_succeed(tmp_path, redis_key_prefix):
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_KEY_PREFIX": redis_key_prefix,
        "SECRET_KEY": "test-only",
        "DEBUG": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        # collectstatic writes here, not var/ (whitenoise indexes STATIC_ROOT for every test client)
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    exported = tmp_path / "env"
    exported.write_text("")
    for mark, body in blocks():
        if mark != "run":
            continue
        script = f"set -e -o pipefail\nset -a\n. {exported}\nset +a\n{body}\nexport -p > {exported}\n"
        result = subprocess.run(
            ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert result.returncode == 0, f"{body}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
