"""Log lines: the request id in and out of X-Request-ID, the ids each line carries, both formats."""

import json
import logging
import re

import pytest
from django.test import Client

from config import logfmt


def record(message="hello %s", args=("world",), name="campaigns.dispatch", level=logging.INFO, exc_info=None):
    entry = logging.LogRecord(name, level, __file__, 1, message, args, exc_info)
    logfmt.ContextFilter().filter(entry)
    return entry


def test_json_lines_carry_the_bound_ids_and_parse():
    with logfmt.bound(request_id="req-1", campaign_id=7, execution_id=9, instance_id=None):
        line = logfmt.JsonLineFormatter().format(record())
    data = json.loads(line)
    assert data["message"] == "hello world"
    assert data["logger"] == "campaigns.dispatch" and data["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["time"])
    assert (data["request_id"], data["campaign_id"], data["execution_id"]) == ("req-1", 7, 9)
    assert "instance_id" not in data and "conversation_id" not in data
    assert "\n" not in line


def test_a_traceback_stays_inside_its_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        line = logfmt.JsonLineFormatter().format(record(level=logging.ERROR, exc_info=sys.exc_info()))
    assert "\n" not in line and "ValueError: boom" in json.loads(line)["exc_info"]


def test_text_lines_are_utc_and_show_the_ids_on_the_first_line():
    with logfmt.bound(request_id="req-2", conversation_id=5):
        line = logfmt.TextFormatter().format(record())
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO campaigns\.dispatch hello world \[request=req-2 conversation=5\]",
        line,
    )
    assert logfmt.TextFormatter().format(record()).endswith("hello world")  # nothing bound, nothing shown


def test_static_files_and_probes_make_no_access_line():
    quiet = logfmt.QuietAccess()
    assert not quiet.filter(
        record(message="%(U)s", args=({"U": "/static/admin/css/base.css"},), name="gunicorn.access")
    )
    assert not quiet.filter(record(message="%(U)s", args=({"U": "/health"},), name="gunicorn.access"))
    assert quiet.filter(record(message="%(U)s", args=({"U": "/api/v1/contacts/"},), name="gunicorn.access"))


def test_beat_ticks_and_task_successes_are_not_logged_by_default(settings):
    loggers = settings.LOGGING["loggers"]
    for name in ("celery.beat", "celery.app.trace", "celery.worker.strategy"):
        assert loggers[name]["level"] == "WARNING"


@pytest.mark.django_db
def test_a_request_id_is_taken_from_the_request_or_made_and_answered(caplog):
    given = Client().get("/api/v1/me", headers={"X-Request-ID": "abc-123.x"})
    assert given["X-Request-ID"] == "abc-123.x"
    made = Client().get("/api/v1/me")
    assert re.fullmatch(r"[0-9a-f]{32}", made["X-Request-ID"])
    refused = Client().get("/api/v1/me", headers={"X-Request-ID": "bad id\nwith newline"})
    assert re.fullmatch(r"[0-9a-f]{32}", refused["X-Request-ID"])


def test_a_task_binds_the_ids_its_message_carries_and_restores_the_context_after():
    from types import SimpleNamespace

    from config import logs

    task = SimpleNamespace(request=SimpleNamespace(wf_log_ids={"request_id": "from-web", "bogus": 1}))
    with logfmt.bound(request_id="eager-caller", organization_id=3):
        logs._bind_ids(task_id="t-1", task=task)
        assert logfmt.current() == {"request_id": "from-web", "organization_id": 3}
        logfmt.bind(execution_id=9)  # what the task binds goes with it
        logs._clear_ids(task_id="t-1")
        assert logfmt.current() == {"request_id": "eager-caller", "organization_id": 3}
