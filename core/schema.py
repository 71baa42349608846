"""The OpenAPI contract's shared parts (drf-spectacular): bearer authentication and the error bodies.

Every API operation documents the errors any request can get, as components in
`ERROR_COMPONENTS` (docs/api.md, docs/api-errors.md):
    400 ValidationError  {"<field>": ["message", ...], ...}  (nested fields nest)
    401 Error            no or bad credentials
    403 Error            the role does not allow it (a viewer's write)
    404 Error            not found, or not of your organizations (where the path names an object),
                         or no such page (paginated lists)
    429 Error            throttled, or too many failed authentications; with Retry-After
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}

ERROR_COMPONENTS = {
    "Error": {
        "type": "object",
        "description": "An error that is not about one field.",
        "properties": {
            "detail": {"type": "string", "description": "What went wrong, in the request's language."},
        },
        "required": ["detail"],
    },
    "ValidationError": {
        "type": "object",
        "description": (
            "Bad input: each key names a field (a path such as `template.flows[0].name`, or `detail` / "
            "`non_field_errors` when no field is to blame), each value the list of what is wrong with it "
            "(an object for a nested field)."
        ),
        "additionalProperties": {},
        "example": {"flow_id": ["This flow does not belong to the chosen chatbot."]},
    },
    "ProviderError": {
        "type": "object",
        "description": "The provider refused (400), failed (502) or did not answer in time (504).",
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string", "description": "e.g. not_on_whatsapp, unauthorized, read_timeout"},
            "provider_status": {"type": "integer", "nullable": True, "description": "The provider's HTTP status"},
        },
        "required": ["detail", "code"],
    },
}


def _json(description: str, schema: dict, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token: `Authorization: Bearer <token>` (`manage.py create_api_token USERNAME`).",
        }


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's, plus the error responses every operation can answer."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {
            "400": _json("Bad input; each key names the field.", VALIDATION_ERROR),
            "401": _json("No valid credentials.", ERROR),
            "403": _json("Your role does not allow this.", ERROR),
            "429": _json("Too many requests, or too many failed authentications.", ERROR, RETRY_AFTER),
        }
        if "{" in self.path:
            errors["404"] = _json("Not found (or not of your organizations).", ERROR)
        elif self._is_list_view() and self._get_paginator() is not None:
            errors["404"] = _json("No such page.", ERROR)
        for code, response in errors.items():
            responses.setdefault(code, response)
        return responses

    def get_paginated_name(self, serializer_name: str) -> str:
        # One component per list shape (core.api's paginations), so no two shapes share a name.
        prefix = getattr(self._get_paginator(), "schema_prefix", "Paginated")
        return f"{prefix}{serializer_name}List"


def add_shared_components(result, generator, request, public):
    """POSTPROCESSING_HOOKS: the error components the operations refer to."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_COMPONENTS)
    return result
