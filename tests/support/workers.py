"""Real Celery worker processes for the dispatcher tests (and the benchmark).

Each worker is its own process group, so a test can SIGKILL one whole worker (main
process and pool child) as a crash would. Finalizers kill whatever is left.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class Workers:
    def __init__(self, count: int = 2, env: dict | None = None, stderr=None):
        self.count = count
        self.env = env or {}
        self.stderr = stderr  # a file the workers' logs go to (default: the test's stderr)
        self.processes: list[subprocess.Popen] = []

    def start(self) -> "Workers":
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
            "SECRET_KEY": "test-only",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "0",
            "PROVIDER_ALLOW_PRIVATE_NETWORKS": "1",  # the fake provider is on 127.0.0.1
            **self.env,
        }
        for n in range(self.count):
            self.processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "config",
                        "worker",
                        "-c",
                        "1",
                        "-P",
                        "prefork",
                        "-n",
                        f"w{n}-{os.getpid()}@%h",
                        "--without-heartbeat",
                        "--without-mingle",
                        "--without-gossip",
                        "--loglevel",
                        "WARNING",
                    ],
                    cwd=ROOT,
                    env=env,
                    start_new_session=True,
                    stdout=subprocess.DEVNULL,
                    stderr=self.stderr,
                )
            )
        return self

    def kill(self, index: int) -> None:
        process = self.processes[index]
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)

    def stop(self) -> None:
        for index, process in enumerate(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    self.kill(index)


def publish_under_test_prefix():
    """Make this process's Celery publish to the queue the test's workers read."""
    import kombu.pools

    from config.celery import app

    options = dict(app.conf.broker_transport_options or {})
    options["global_keyprefix"] = f"{settings.REDIS_KEY_PREFIX}:"
    app.conf.broker_transport_options = options
    # Pools built with the old options are dropped; the next publish builds new ones.
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def wait_for(condition, timeout: float = 90, interval: float = 0.2):
    """Poll real processes until `condition()` holds (a wait for work, not a stand-in for time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {condition.__doc__ or condition}")


def publish_to_broker(broker_url: str, **conf):
    """Make this process's Celery publish to another broker (with these settings); returns the undo."""
    import kombu.pools

    from config.celery import app

    changes = {"broker_url": broker_url, **conf}
    saved = {name: app.conf.get(name) for name in changes}

    def apply(values):
        app.conf.update(values)
        kombu.pools.reset()
        app._pool = None
        app.__dict__.pop("amqp", None)  # its queues, exchange and producer pool are built from the settings

    apply(changes)
    return lambda: apply(saved)
