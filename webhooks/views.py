"""GOSAC webhook endpoint: `POST /api/webhooks/gosac/<instance webhook secret>/`.

Answers: 404 unknown secret, 413 too large, 400 malformed JSON or a broken
`messages:created` (naming the field), 200 otherwise with `status` (accepted or
ignored) and `reason` (e.g. from_me, from_group, bot_disabled, duplicate). An
accepted message is stored before the 200; the engine runs in a worker.
"""

import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config import json_input
from config.metrics import WEBHOOK_INTAKE_SECONDS, WEBHOOKS_RECEIVED
from webhooks import handlers
from webhooks.auth import instance_for_secret
from webhooks.evolution import refused_caller
from webhooks.parsers import PARSERS
from webhooks.parsers.checked import BadPayload


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"status": "error", "error": message}, status=status)


@csrf_exempt
@require_POST
def gosac_webhook(request, secret: str):
    started = time.monotonic()
    response = _gosac_webhook(request, secret)
    WEBHOOK_INTAKE_SECONDS.labels("gosac").observe(time.monotonic() - started)
    answer = response.status_code if response.status_code != 200 else getattr(response, "wf_answer", "ok")
    WEBHOOKS_RECEIVED.labels("gosac", str(answer)).inc()
    return response


def _gosac_webhook(request, secret: str):
    instance = instance_for_secret(secret, provider="gosac")
    if instance is None:
        return refused_caller(request, 404, "Unknown instance.")
    limit = getattr(settings, "WEBHOOKS_MAX_BODY_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _error(413, "Payload too large.")
    try:
        body = request.body
    except RequestDataTooBig:
        return _error(413, "Payload too large.")
    if len(body) > limit:
        return _error(413, "Payload too large.")
    try:
        # NUL, lone surrogates and overflowing numbers are replaced: the message is kept.
        payload, _ = json_input.loads_lenient(body)
    except json_input.TooDeep as exc:
        return _error(400, f"Malformed JSON: {exc}")
    except ValueError:
        return _error(400, "Malformed JSON.")
    try:
        event = PARSERS["gosac"](payload)
    except BadPayload as exc:
        return _error(400, str(exc))
    result = handlers.handle(instance, event)
    response = JsonResponse({"status": result.status, "reason": result.reason})
    response.wf_answer = result.status
    return response
