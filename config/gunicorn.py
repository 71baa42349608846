"""Gunicorn settings of the `web` process: `gunicorn -c config/gunicorn.py config.wsgi` (Procfile).

https://docs.gunicorn.org/en/stable/settings.html
"""

import errno
import importlib.util
import os
import socket
import sys
from pathlib import Path


def _load(name: str):
    """A module of config/ loaded by path: importing the `config` package would set up Celery and
    Django in the master, which loads the application only in its workers."""
    spec = importlib.util.spec_from_file_location(f"whatsflow_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


metrics_files = _load("metrics_files")
logfmt = _load("logfmt")


def _bind() -> str:
    """`0.0.0.0:$PORT` on platforms that give a port (Railway, Heroku, Render), else WEB_BIND, else local."""
    if port := os.environ.get("PORT", "").strip():
        return f"0.0.0.0:{port}"
    return os.environ.get("WEB_BIND", "").strip() or "127.0.0.1:8000"


bind = _bind()
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads wait on PostgreSQL side by side, and the webhook intake stores what they hold in one
# statement; enough of them serve every keep-alive connection a worker is handed at once. Each
# holds a database connection (CONN_MAX_AGE): 2 x 16 = 32 per web machine.
threads = int(os.environ.get("WEB_THREADS", "16"))
# WEB_REUSE_PORT=1: each worker listens on its own SO_REUSEPORT socket and the kernel spreads
# new connections over them (on one shared socket whichever worker is in accept() first takes
# them all, and a few keep-alive clients could load one worker while the other idles). Off by
# default: with SO_REUSEPORT a second copy of the product binds the same port silently and
# takes half the connections; `on_starting` refuses to start when the port is already taken.
reuse_port = os.environ.get("WEB_REUSE_PORT", "").strip().lower() in {"1", "true", "yes", "on"}
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
# The same format as every other line (LOG_FORMAT, UTC); no lines for static files or /health.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms req=%({x-request-id}o)s "%(a)s"'
logconfig_dict = logfmt.logging_config(
    log_format=os.environ.get("LOG_FORMAT", "text"), level=os.environ.get("LOG_LEVEL", "INFO"), quiet={}
)


def _port_taken(address: str) -> bool:
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        return False  # a unix socket: gunicorn reports it itself
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.bind((host.strip("[]"), int(port)))  # without SO_REUSEPORT: fails while anyone listens
    except OSError as exc:
        return exc.errno == errno.EADDRINUSE
    finally:
        probe.close()
    return False


def on_starting(server):
    """Fail loudly when the port is taken (with reuse_port the workers' binds would succeed silently)."""
    if reuse_port:
        for address in [bind] if isinstance(bind, str) else bind:
            if _port_taken(address):
                server.log.error("Connection in use: %s (another process listens there)", address)
                sys.exit(1)
    metrics_files.prepare()


def child_exit(server, worker):
    """A dead worker's live gauges leave the metrics folder (prometheus-client's multiprocess mode)."""
    metrics_files.mark_dead(worker.pid)
