"""Refusing, before any view runs, a request whose URL holds what PostgreSQL cannot store."""

from django.http import HttpResponseBadRequest, JsonResponse

from core import json_input


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
