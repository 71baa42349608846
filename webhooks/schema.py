"""The webhook endpoints in the OpenAPI contract (plain Django views, so written out here).

`add_webhook_paths` is a drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS); the
answers are those documented in `webhooks/evolution/views.py` and `webhooks/gosac/views.py`.
"""

from copy import deepcopy

WEBHOOK_ERROR = {"$ref": "#/components/schemas/WebhookError"}

COMPONENTS = {
    "WebhookError": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["error"]},
            "error": {"type": "string", "description": "What was wrong (the field's path for a broken event)."},
        },
        "required": ["status", "error"],
    },
    "EvolutionEvent": {
        "type": "object",
        "description": (
            "An Evolution API v1 or v2 webhook payload (`messages.update`, `messages.upsert`, `connection.update`, "
            "`messages.delete`; other events are acknowledged and ignored). Payload formats: "
            "tests/fixtures/evolution/README.md."
        ),
        "properties": {
            "event": {"type": "string", "example": "messages.update"},
            "instance": {"type": "string", "description": "Evolution's instance name", "example": "loja-centro"},
            "data": {"type": "object", "additionalProperties": {}},
            "apikey": {
                "type": "string",
                "nullable": True,
                "description": "The instance's API key: the credential when neither the path nor a header has one.",
            },
            "date_time": {"type": "string", "example": "2025-03-14T10:24:51.020Z"},
        },
        "required": ["instance"],
        "additionalProperties": {},
    },
    "EvolutionAnswer": {
        "type": "object",
        "properties": {
            "status": {
                "type": "string",
                "description": "accepted (stored), duplicate, ignored, or the result when applied in the request",
            },
            "event_id": {"type": "integer"},
            "reason": {"type": "string"},
        },
        "required": ["status"],
    },
    "GosacEvent": {
        "type": "object",
        "description": "A GOSAC webhook: only `messages:created` is used; anything else is ignored.",
        "properties": {
            "type": {"type": "string", "example": "messages:created"},
            "data": {"type": "object", "additionalProperties": {}},
        },
        "required": ["type", "data"],
        "additionalProperties": {},
    },
    "GosacAnswer": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "description": "accepted or ignored"},
            "reason": {"type": "string", "description": "e.g. from_me, from_group, bot_disabled, duplicate"},
        },
        "required": ["status", "reason"],
    },
}


def _error(description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": WEBHOOK_ERROR}}}
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}


def _operation(*, operation_id: str, summary: str, body: str, answer: str, parameters: list, not_stored: bool) -> dict:
    responses = {
        "200": {
            "description": "Acknowledged (stored before the answer, a duplicate, or ignored).",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{answer}"}}},
        },
        "400": _error("Malformed JSON, or a known event with a broken field (named)."),
        "401": _error("The secret or API key is not the instance's."),
        "404": _error("No instance has that name or secret."),
        "405": _error("Only POST."),
        "413": _error("Body over WEBHOOKS_MAX_BODY_BYTES."),
        "429": _error("Too many failed authentications from this address.", RETRY_AFTER),
    }
    if not_stored:
        responses["503"] = _error("The event could not be stored: post it again (it is deduplicated).")
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["webhooks"],
            "security": [],
            "parameters": parameters,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
            },
            "responses": responses,
        }
    }


def _path_parameter(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}


SECRET = _path_parameter("secret", "The instance's webhook secret (shown with the instance to its admins).")
HEADER_SECRET = {
    "name": "X-Webhook-Secret",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The webhook secret, when the URL has none.",
}

PATHS = {
    "/api/webhooks/evolution/{secret}/": _operation(
        operation_id="webhooks_evolution_with_secret",
        summary="Evolution API event (what configure webhook sets up)",
        body="EvolutionEvent",
        answer="EvolutionAnswer",
        parameters=[SECRET],
        not_stored=True,
    ),
    "/api/webhooks/evolution/{secret}/{event}": _operation(
        operation_id="webhooks_evolution_by_event",
        summary='Evolution API event, "webhook by events" (the event appended to the URL)',
        body="EvolutionEvent",
        answer="EvolutionAnswer",
        parameters=[SECRET, _path_parameter("event", "Evolution's event suffix, e.g. messages-update")],
        not_stored=True,
    ),
    "/api/webhooks/evolution/": _operation(
        operation_id="webhooks_evolution",
        summary="Evolution API event, the secret in X-Webhook-Secret or the API key in `apikey`",
        body="EvolutionEvent",
        answer="EvolutionAnswer",
        parameters=[HEADER_SECRET],
        not_stored=True,
    ),
    "/api/webhooks/gosac/{secret}/": _operation(
        operation_id="webhooks_gosac",
        summary="GOSAC event",
        body="GosacEvent",
        answer="GosacAnswer",
        parameters=[SECRET],
        not_stored=False,
    ),
}


def add_webhook_paths(result, generator, request, public):
    """POSTPROCESSING_HOOKS: the webhook endpoints and their components."""
    result.setdefault("paths", {}).update(deepcopy(PATHS))
    result.setdefault("components", {}).setdefault("schemas", {}).update(deepcopy(COMPONENTS))
    return result
