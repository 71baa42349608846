"""Django REST framework (authentication, tenancy, parsers, throttles) and the OpenAPI schema."""

from config.settings.core import VERSION
from config.settings.env import env

# REST FRAMEWORK
# https://www.django-rest-framework.org/api-guide/settings/
# ------------------------------------------------------------------------------
# UNTRUSTED INPUT
# ------------------------------------------------------------------------------
# How deep a JSON body may nest (API and webhooks); deeper is a 400 (core/json_input.py).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.HasOrganizationRole"],
    "DEFAULT_FILTER_BACKENDS": [
        "accounts.filters.TenantFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # The project's parsers bound nesting and refuse NUL, lone surrogates and numbers
    # that overflow, naming the field (core/parsers.py, docs/api-errors.md).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "core.parsers.FormParser",
        "core.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "core.schema.AutoSchema"
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "core.throttles.TokenRateThrottle",
    "core.throttles.AddressRateThrottle",
]

# API SCHEMA (drf-spectacular; docs/api.md)
# ------------------------------------------------------------------------------
SPECTACULAR_SETTINGS = {
    "TITLE": "WhatsFlow API",
    "DESCRIPTION": "Contacts, chatbot flows, campaigns (flow automations) and WhatsApp instances. "
    "Authenticate with `Authorization: Bearer <token>`.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1/",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc from the installed drf-spectacular-sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"ExecutionStatusEnum": "campaigns.models.Execution.Status"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.add_shared_components",
        "webhooks.schema.add_webhook_paths",
    ],
}
