"""Log formats and the ids every line carries; no Django here (gunicorn's master loads it by path).

`LOG_FORMAT=text` (the default): `2026-12-01T20:31:02Z INFO campaigns.dispatch [req=3f2a… execution=12] message`,
in UTC whatever the process's time zone. `LOG_FORMAT=json`: one JSON object a line
(python-json-logger) with `time`, `level`, `logger`, `message` and the ids known where the
line was written (`request_id`, `organization_id`, `campaign_id`, `execution_id`,
`instance_id`, `conversation_id`), which live in a context variable (`bind`).
"""

import contextvars
import logging
import time
from contextlib import contextmanager

from pythonjsonlogger.json import JsonFormatter

IDS = ("request_id", "organization_id", "campaign_id", "execution_id", "instance_id", "conversation_id")
_EMPTY: dict = {}  # never mutated: bind() sets a new dict
_context: contextvars.ContextVar[dict] = contextvars.ContextVar("whatsflow_log_context", default=_EMPTY)


def current() -> dict:
    """The ids bound here (a copy)."""
    return dict(_context.get())


def bind(**ids) -> contextvars.Token:
    """Add ids (None values are dropped) to what this context's lines carry; `reset(token)` undoes it."""
    merged = {**_context.get(), **{name: value for name, value in ids.items() if value not in (None, "")}}
    return _context.set(merged)


def reset(token: contextvars.Token) -> None:
    _context.reset(token)


def clear() -> None:
    _context.set({})


@contextmanager
def bound(**ids):
    token = bind(**ids)
    try:
        yield
    finally:
        reset(token)


class ContextFilter(logging.Filter):
    """Puts the bound ids on each record (handler-level, so third-party loggers get them too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = _context.get()
        record.log_ids = ids
        for name in IDS:
            if not hasattr(record, name):
                setattr(record, name, ids.get(name))
        return True


class QuietAccess(logging.Filter):
    """Drops gunicorn's access lines for static files and health checks (one per asset or probe)."""

    PREFIXES = ("/static/", "/favicon.ico", "/health", "/metrics")

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, dict) else {}
        path = str(args.get("U", ""))
        return not path.startswith(self.PREFIXES)


class TextFormatter(logging.Formatter):
    converter = time.gmtime

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        super().__init__(*args, **kwargs)

    def formatTime(self, record, datefmt=None):
        return time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created)) + f".{int(record.msecs):03d}Z"

    def format(self, record):
        text = super().format(record)
        ids = {name: getattr(record, name, None) for name in IDS}
        shown = " ".join(f"{name.removesuffix('_id')}={value}" for name, value in ids.items() if value)
        if not shown:
            return text
        head, sep, tail = text.partition("\n")  # the ids on the first line, before a traceback
        return f"{head} [{shown}]{sep}{tail}"


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, ids, extras."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    converter = time.gmtime

    def formatTime(self, record, datefmt=None):
        return time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created)) + f".{int(record.msecs):03d}Z"

    def add_fields(self, log_data, record, message_dict):
        super().add_fields(log_data, record, message_dict)
        log_data.pop("log_ids", None)
        for name in IDS:
            if log_data.get(name) in (None, ""):
                log_data.pop(name, None)
        if isinstance(record.args, dict) and record.name == "gunicorn.access":
            log_data.pop("args", None)


def formatter_class(log_format: str):
    return JsonLineFormatter if (log_format or "").strip().lower() == "json" else TextFormatter


def logging_config(*, log_format: str, level: str, quiet: dict[str, str]) -> dict:
    """The dictConfig of a process: one console handler, the chosen format, the ids filter."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"ids": {"()": ContextFilter}, "quiet_access": {"()": QuietAccess}},
        "formatters": {"main": {"()": formatter_class(log_format)}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "main", "filters": ["ids"]},
            "access": {"class": "logging.StreamHandler", "formatter": "main", "filters": ["ids", "quiet_access"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            **{name: {"level": value} for name, value in quiet.items()},
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }
