"""GOSAC webhook endpoint: `POST /api/webhooks/gosac/<instance webhook secret>/`.

Answers: 404 unknown secret, 413 too large, 400 malformed JSON or a broken
`messages:created` (naming the field), 200 otherwise with `status` (accepted or
ignored) and `reason` (e.g. from_me, from_group, bot_disabled, duplicate). An
accepted message is stored before the 200; the engine runs in a worker.
"""

import json

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

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
    instance = instance_for_secret(secret, provider="gosac")
    if instance is None:
        return refused_caller(request, 404, "Unknown instance.")
    limit = getattr(settings, "WEBHOOKS_MAX_BODY_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        return _error(413, "Payload too large.")
    try:
        payload = json.loads(request.body)
    except ValueError:
        return _error(400, "Malformed JSON.")
    try:
        event = PARSERS["gosac"](payload)
    except BadPayload as exc:
        return _error(400, str(exc))
    result = handlers.handle(instance, event)
    return JsonResponse({"status": result.status, "reason": result.reason})
