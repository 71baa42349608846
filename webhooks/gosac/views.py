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

from config.metrics import WEBHOOK_INTAKE_SECONDS, WEBHOOKS_RECEIVED
from core import json_input
from webhooks.auth import instance_for_secret
from webhooks.checked import BadPayload
from webhooks.gosac import routing
from webhooks.gosac.parser import parse
from webhooks.responses import error, refused_caller


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
        return error(413, "Payload too large.")
    try:
        body = request.body
    except RequestDataTooBig:
        return error(413, "Payload too large.")
    if len(body) > limit:
        return error(413, "Payload too large.")
    try:
        # NUL, lone surrogates and overflowing numbers are replaced: the message is kept.
        payload, _ = json_input.loads_lenient(body)
    except json_input.TooDeep as exc:
        return error(400, f"Malformed JSON: {exc}")
    except ValueError:
        return error(400, "Malformed JSON.")
    try:
        event = parse(payload)
    except BadPayload as exc:
        return error(400, str(exc))
    result = routing.handle(instance, event)
    response = JsonResponse({"status": result.status, "reason": result.reason})
    response.wf_answer = result.status
    return response
