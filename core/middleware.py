"""Refusing, before any view runs, a request whose URL holds what PostgreSQL cannot store;
answering 503 (not 500) while the database is away; reading what an early answer left unread."""

import logging
import socket

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponseBadRequest, JsonResponse

from core import json_input

logger = logging.getLogger(__name__)

# Seconds a caller is told to wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 5


class DrainUnreadBody:
    """A request answered without reading its body (401, 413, 429, a throttle) has it read here.

    The client is told the connection stays open; left on the socket, the unread body would be
    taken for its next request, or the server would drop the connection under the client while
    it is still sending. Up to the largest body accepted anywhere (DATA_UPLOAD_MAX_MEMORY_SIZE,
    WEBHOOKS_MAX_BODY_BYTES) is read and thrown away; after the answer to a larger one, gunicorn's
    socket is shut for writing, so the client reads the whole answer and then a clean end.
    """

    CHUNK = 64 * 1024

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "_read_started", False) and not hasattr(request, "_body"):
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if 0 < declared <= max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.WEBHOOKS_MAX_BODY_BYTES):
                stream = getattr(request, "_stream", None)
                while stream is not None and stream.read(self.CHUNK):
                    pass
            elif declared and (sock := request.META.get("gunicorn.socket")) is not None:
                # Too large to read: once the answer is out, end the connection cleanly (FIN).
                response._resource_closers.append(lambda: _end_writes(sock))
        return response


def _end_writes(sock) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


class AnswerDatabaseOutages:
    """A view that met a lost or refused database connection answers 503 with `Retry-After`.

    A webhook sender (Evolution retries a failed delivery) and an API client then know to
    come back, and the admin shows a page that says so, instead of a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("database unavailable for %s %s: %s", request.method, request.path, exception)
        response = JsonResponse(
            {"status": "error", "error": "The database is unavailable; try again shortly."}, status=503
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


class RefuseUnstorableQuery:
    """A NUL (`?status=%00`) in the path or a query parameter is a 400 naming the parameter.

    Every filter, search and ordering of the API and the admin would otherwise hand it to
    PostgreSQL, which refuses it with an error that becomes a 500. API paths answer in
    the API's error shape, `{"status": ["Text must not contain NUL ..."]}`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad = self._first_bad(request)
        if bad is None:
            return self.get_response(request)
        name, message = bad
        if request.path.startswith("/api/"):
            return JsonResponse({name: [message]}, status=400)
        return HttpResponseBadRequest(f"{name}: {message}", content_type="text/plain; charset=utf-8")

    @staticmethod
    def _first_bad(request) -> tuple[str, str] | None:
        if json_input.has_unstorable_text(request.path):
            return "path", json_input.UNSTORABLE_TEXT
        return json_input.first_bad_field(request.GET)
