"""Cloud API webhook endpoint: `/api/webhooks/cloud/<instance webhook secret>/`.

- `GET` is Meta's verification: `hub.mode=subscribe`, `hub.verify_token` (the number's
  verify token, compared in constant time) and `hub.challenge`, answered as it came
  (text/plain); anything else 403.
- `POST` carries `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body under the
  Meta app's secret>`; a missing or wrong signature is 401 and changes nothing. Then 413
  too large, 400 malformed JSON or shape (naming the field), 200 with the counts of
  accepted and duplicate items. Accepted items are stored before the 200.
"""

import hashlib
import hmac
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from config.metrics import WEBHOOK_INTAKE_SECONDS, WEBHOOKS_RECEIVED
from core import json_input
from webhooks.auth import credential_matches, instance_for_secret
from webhooks.checked import BadPayload
from webhooks.cloud import intake
from webhooks.responses import error, refused_caller

SIGNATURE_HEADER = "HTTP_X_HUB_SIGNATURE_256"


def signature_matches(body: bytes, header: str, app_secret: str) -> bool:
    if not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].strip().lower().encode(), expected.encode())


@csrf_exempt
@require_http_methods(["GET", "POST"])
def cloud_webhook(request, secret: str):
    started = time.monotonic()
    response = _verify(request, secret) if request.method == "GET" else _receive(request, secret)
    WEBHOOK_INTAKE_SECONDS.labels("cloud").observe(time.monotonic() - started)
    WEBHOOKS_RECEIVED.labels("cloud", str(response.status_code)).inc()
    return response


def _verify(request, secret: str):
    instance = instance_for_secret(secret, provider="cloud")
    if instance is None:
        return refused_caller(request, 404, "Unknown instance.")
    token = request.GET.get("hub.verify_token", "")
    verify_token = instance.cloud_secrets().get("verify_token", "")
    if request.GET.get("hub.mode") != "subscribe" or not credential_matches(token, verify_token):
        return refused_caller(request, 403, "Verification refused.")
    return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")


def _receive(request, secret: str):
    instance = instance_for_secret(secret, provider="cloud")
    if instance is None:
        return refused_caller(request, 404, "Unknown instance.")
    limit = getattr(settings, "WEBHOOKS_MAX_BODY_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    try:
        body = request.body
    except RequestDataTooBig:
        return error(413, "Payload too large.")
    if len(body) > limit:
        return error(413, "Payload too large.")
    app_secret = instance.cloud_secrets().get("app_secret", "")
    if not signature_matches(body, request.META.get(SIGNATURE_HEADER, ""), app_secret):
        return refused_caller(request, 401, "Bad or missing X-Hub-Signature-256.")
    try:
        payload, _ = json_input.loads_lenient(body)
    except json_input.TooDeep as exc:
        return error(400, f"Malformed JSON: {exc}")
    except ValueError:
        return error(400, "Malformed JSON.")
    try:
        counts = intake.receive(instance=instance, payload=payload)
    except BadPayload as exc:
        return error(400, str(exc))
    return JsonResponse({"status": "accepted" if counts["accepted"] else "ignored", **counts})
