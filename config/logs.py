"""Request ids and the ids logs carry, for requests and for the Celery tasks they enqueue.

- `RequestIdMiddleware`: takes `X-Request-ID` from the request when it looks like an id
  (letters, digits, `.-_:`, up to 128), else makes one; binds it for the request's log lines
  and answers it in the same header.
- Celery: `before_task_publish` copies the ids bound where a task is queued into its
  message headers (`wf_log_ids`); `task_prerun` binds them in the worker, so a request's id
  follows the work it started; `task_postrun` restores the context as it was before the task.
- `setup_logging`: Celery configures no logging of its own; every process uses
  `settings.LOGGING` (one format, UTC, the same ids).
"""

import logging.config
import re
import uuid

from celery import signals
from django.conf import settings

from config import logfmt

HEADER = "wf_log_ids"
_VALID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def request_id_from(value: str | None) -> str:
    return value if value and _VALID.match(value) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = logfmt.bind(request_id=request_id)
        try:
            response = self.get_response(request)
        finally:
            logfmt.reset(token)
        response["X-Request-ID"] = request_id
        return response


@signals.before_task_publish.connect
def _carry_ids(headers=None, **kwargs):
    ids = logfmt.current()
    if ids and headers is not None and HEADER not in headers:
        headers[HEADER] = ids


_tokens: dict[str, object] = {}  # task id -> what task_postrun restores


@signals.task_prerun.connect
def _bind_ids(task_id=None, task=None, **kwargs):
    """The ids the task's message carries, over what this context has (a worker's: nothing)."""
    carried = getattr(task.request, HEADER, None) if task is not None else None
    if not isinstance(carried, dict):
        carried = (getattr(task.request, "headers", None) or {}).get(HEADER) if task is not None else None
    ids = {name: value for name, value in (carried or {}).items() if name in logfmt.IDS}
    if task_id is not None:
        _tokens[task_id] = logfmt.bind(**ids)


@signals.task_postrun.connect
def _clear_ids(task_id=None, **kwargs):
    """Back to the context before the task (what the task bound, e.g. its execution, goes)."""
    token = _tokens.pop(task_id, None)
    if token is not None:
        try:
            logfmt.reset(token)
        except ValueError:  # made in another context: start the next task from nothing
            logfmt.clear()


@signals.setup_logging.connect
def _configure(**kwargs):
    logging.config.dictConfig(settings.LOGGING)
    logging.captureWarnings(True)  # Python warnings (e.g. Celery's SecurityWarning) in the same format
