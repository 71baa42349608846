"""`GET /health`: is this process able to reach what it needs? And the bot's controls.

The old chatbot's `/health` also told `bot_enabled`, `bot_status`, `test_mode` and a
`timestamp`: those are the environment's defaults, or, with a bearer token of a user of
exactly one organization, that organization's settings (`organization` says which).
"""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone

from config.celery import app as celery_app


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return str(exc) or exc.__class__.__name__
    return None


def _check_broker() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return str(exc) or exc.__class__.__name__
    return None


def _bot_controls(request) -> dict:
    from flows.controls import bot_summary  # imported late: config sits under the apps

    organization_id = None
    try:
        from accounts.auth import BearerTokenAuthentication
        from accounts.models import Membership

        authenticated = BearerTokenAuthentication().authenticate(request)
    except Exception:  # noqa: BLE001 - a bad token on /health just gets the defaults
        authenticated = None
    if authenticated is not None:
        organizations = list(
            Membership.objects.filter(user=authenticated[0], organization__is_active=True).values_list(
                "organization_id", flat=True
            )[:2]
        )
        if len(organizations) == 1:
            organization_id = organizations[0]
    return bot_summary(organization_id=organization_id)


def health(request):
    errors = {"database": _check_database(), "broker": _check_broker()}
    down = sorted(name for name, error in errors.items() if error)
    body = {
        "status": "ok" if not down else "down",
        "version": settings.VERSION,
        "database": "ok" if not errors["database"] else "down",
        "broker": "ok" if not errors["broker"] else "down",
    }
    if not errors["database"]:
        body.update(_bot_controls(request))
    body["timestamp"] = timezone.now().isoformat()
    if down:
        body["down"] = down
        body["errors"] = {name: errors[name] for name in down}
    return JsonResponse(body, status=503 if down else 200)
