"""Evolution API webhook endpoints.

    POST /api/webhooks/evolution/<secret>/                (what configure_webhook sets up)
    POST /api/webhooks/evolution/<secret>/<event-suffix>  ("webhook by events" appends e.g. messages-update)
    POST /api/webhooks/evolution/                         (secret in X-Webhook-Secret, or the apikey field)
    POST /api/webhooks/evolution/<event-suffix>

Evolution signs nothing, so the caller proves itself with the instance's webhook
secret (path or header) or the instance's API key (the payload's `apikey`, null on
many servers). Answers: 404 unknown instance, 401 bad or missing credentials, 413 too
large, 400 malformed JSON or a broken known event, 200 otherwise (ignored, duplicate,
accepted, or the result when applied in the request). Evolution retries anything but
400/401/403/404/422, so a 200 for what we will never use stops its retries.
"""

import logging
import re
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, DataError
from django.http import HttpResponse, JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.metrics import WEBHOOK_INTAKE_SECONDS, WEBHOOKS_RECEIVED
from core import json_input
from webhooks.checked import BadPayload
from webhooks.evolution import intake
from webhooks.responses import error, refused_caller

logger = logging.getLogger(__name__)

# Evolution's by-events suffixes are lower-case words joined by dashes; our secrets are
# 32 URL-safe characters, so a lone segment is told apart by shape and trailing slash.
_EVENT_SUFFIX = re.compile(r"^[a-z]+(?:-[a-z]+)*$")


def split_path(rest: str) -> tuple[str, str]:
    """(secret, event suffix) from what follows /evolution; Evolution may double the slash."""
    rest = rest or ""
    segments = [segment for segment in rest.split("/") if segment]
    if len(segments) >= 2:
        return segments[0], segments[-1]
    if len(segments) == 1:
        only = segments[0]
        if not rest.endswith("/") and _EVENT_SUFFIX.match(only) and len(only) < 32:
            return "", only
        return only, ""
    return "", ""


def credential(*, secret: str, header_secret: str, api_key) -> tuple[str, bool]:
    """(credential, is it the API key): a secret given must be right; without one, the payload's API key."""
    if secret or header_secret:
        return secret or header_secret, False
    return (api_key if isinstance(api_key, str) else ""), True


@csrf_exempt
@require_POST
def evolution_webhook(request, rest: str = ""):
    started = time.monotonic()
    response = _evolution_webhook(request, rest)
    WEBHOOK_INTAKE_SECONDS.labels("evolution").observe(time.monotonic() - started)
    answer = response.status_code if response.status_code != 200 else getattr(response, "wf_answer", "ok")
    WEBHOOKS_RECEIVED.labels("evolution", str(answer)).inc()
    return response


def _evolution_webhook(request, rest: str):
    secret, url_event = split_path(rest)
    limit = settings.WEBHOOKS_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return error(413, f"Body larger than {limit} bytes")
    try:
        body = request.body
    except RequestDataTooBig:
        return error(413, f"Body larger than {limit} bytes")
    if len(body) > limit:
        return error(413, f"Body larger than {limit} bytes")
    try:
        # NUL, lone surrogates and overflowing numbers are replaced: the event is kept.
        payload, replaced = json_input.loads_lenient(body)
    except (UnicodeDecodeError, ValueError) as exc:
        return error(400, f"Malformed JSON: {exc}")
    if replaced:
        body = None  # stored as re-encoded from `payload`, not as it came
    if not isinstance(payload, dict):
        return error(400, "payload must be an object")
    name = payload.get("instance")
    if not isinstance(name, str) or not name:
        return error(400, "instance is missing")
    given, by_api_key = credential(
        secret=secret, header_secret=request.META.get("HTTP_X_WEBHOOK_SECRET", ""), api_key=payload.get("apikey")
    )
    try:
        outcome = intake.receive_posted(
            instance_name=name, credential=given, by_api_key=by_api_key, payload=payload, url_event=url_event, body=body
        )
    except intake.UnknownInstance:
        return refused_caller(request, 404, "Unknown instance")
    except intake.BadCredential:
        return refused_caller(request, 401, "Bad or missing webhook secret")
    except BadPayload as exc:
        return error(400, str(exc))
    except DataError as exc:
        # This event alone holds a value the database refuses (its neighbours were stored):
        # a retry would fail the same way, so it is the caller's 400, not a 503.
        logger.warning("webhook for instance %r refused by the database: %s", name, exc)
        return error(400, "The event holds a value that cannot be stored")
    except DatabaseError:
        # Not stored: Evolution retries a 5xx, and the retry is deduplicated.
        logger.exception("webhook for instance %r not stored", name)
        return error(503, "The event could not be stored; try again")
    response = JsonResponse(outcome.as_json())
    response.wf_answer = outcome.status
    return response


@csrf_exempt
def floor(request):
    """The fastest answer this server gives: what the benchmark measures the endpoint against."""
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")


urlpatterns = [re_path(r"^evolution(?P<rest>/.*)?$", evolution_webhook, name="evolution-webhook")]
if settings.WEBHOOKS_FLOOR_VIEW:
    urlpatterns.append(path("floor", floor, name="webhooks-floor"))
