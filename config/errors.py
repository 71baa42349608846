"""The 404 of URLs no route matches: JSON under /api/ (as the API's own 404s), Django's page elsewhere."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults


def not_found(request, exception=None):
    if request.path.startswith("/api/webhooks/"):
        return JsonResponse({"status": "error", "error": "Not found"}, status=404)  # the webhooks' shape
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)
