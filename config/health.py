"""`GET /health`: is this process able to reach what it needs? And what the apps add (`PARTS`).

The old chatbot's `/health` also told `bot_enabled`, `bot_status`, `test_mode` and a
`timestamp`: flows adds the first three (`flows/health.py`), config the timestamp.
"""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone

from config.celery import app as celery_app

# What the apps add to the body while the database is up, each `part(request) -> dict`,
# registered in their `AppConfig.ready()` (config sits under the apps and imports none).
PARTS = []


def register_part(part) -> None:
    if part not in PARTS:
        PARTS.append(part)


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


def _check_redis() -> str | None:
    if not settings.REDIS_URL:
        return None
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return str(exc) or exc.__class__.__name__
    finally:
        client.close()
    return None


def health(request):
    errors = {"database": _check_database(), "broker": _check_broker(), "redis": _check_redis()}
    down = sorted(name for name, error in errors.items() if error)
    body = {
        "status": "ok" if not down else "down",
        "version": settings.VERSION,
        "database": "ok" if not errors["database"] else "down",
        "broker": "ok" if not errors["broker"] else "down",
    }
    if settings.REDIS_URL:
        body["redis"] = "ok" if not errors["redis"] else "down"
    if not errors["database"]:
        for part in PARTS:
            body.update(part(request))
    body["timestamp"] = timezone.now().isoformat()
    if down:
        body["down"] = down
        body["errors"] = {name: errors[name] for name in down}
    return JsonResponse(body, status=503 if down else 200)
