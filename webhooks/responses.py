"""The answers both providers' endpoints give a caller they refuse."""

from django.http import JsonResponse

from core.ratelimit import client_ip, webhook_auth_failures


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"status": "error", "error": message}, status=status)


def refused_caller(request, status: int, message: str) -> JsonResponse:
    """401/404 for a caller that did not prove itself; past the per-address limit of such
    failures (WEBHOOKS_AUTH_FAILURE_LIMIT), 429 with Retry-After. One counter increment, on
    failures only: an authenticated post never touches it, so one misconfigured instance on an
    Evolution server cannot cut off its neighbours posting from the same address."""
    wait = webhook_auth_failures().record_failure(client_ip(request))
    if wait is None:
        return error(status, message)
    response = error(429, "Too many failed webhook authentications from your address")
    response["Retry-After"] = str(wait)
    return response
