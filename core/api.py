"""The API's plumbing that knows no tenant: the error shape, the body as an object, the router,
and the list shapes the old clients read (a bare array, or `items`) beside the project's envelope."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, Throttled, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from core.ratelimit import api_auth_failures, client_ip


def request_object(request) -> dict:
    """The request body as a dict: an empty body is `{}`, a JSON list, string, number or null a 400."""
    data = request.data
    if hasattr(data, "dict") and not isinstance(data, dict):
        return data.dict()  # a form's QueryDict, or the empty one DRF gives for no body
    if not isinstance(data, dict):  # the body was JSON null, a list, a string or a number
        raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [_("The body must be a JSON object.")]})
    return data


def exception_handler(exc, context):
    """DRF's handler, plus Django's ValidationError turned into a 400 naming the field.

    A request without valid credentials counts against its address
    (`API_AUTH_FAILURE_LIMIT` per `API_AUTH_FAILURE_WINDOW_SECONDS`); past the limit it
    gets 429 with `Retry-After` instead of 401.
    """
    if isinstance(exc, NotAuthenticated | AuthenticationFailed) and context.get("request") is not None:
        wait = api_auth_failures().record_failure(client_ip(context["request"]))
        if wait is not None:
            exc = Throttled(wait=wait, detail=_("Too many failed authentications from your address."))
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            exc = ValidationError(exc.message_dict)
        else:
            exc = ValidationError({"detail": exc.messages})
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        # A bare list of messages (e.g. a filter's ValidationError): the contract's body is an
        # object, whose `detail` holds what no one field is to blame for.
        response.data = {"detail": response.data}
    return response


class ApiRouter(SimpleRouter):
    """Routes that answer with and without the trailing slash.

    Client code calls `/api/v1/flow-automations`, scripts call `/api/v1/contacts/`; both
    must work without a redirect (a POST can't follow one). DRF's `trailing_slash`
    argument only knows "/" or "", so the pattern is set after init.
    """

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


class BareListPagination(PageNumberPagination):
    """The first page as a bare array, as the old chatbot's screens read it; `?page=` (or
    `?page_size=`) asks for the project's envelope `{count, next, previous, results}`.

    The bare answer tells the total in `X-Total-Count` and the next page in `Link`.
    """

    page_size_query_param = "page_size"
    max_page_size = 500
    schema_prefix = "BareOrPaged"

    def paginate_queryset(self, queryset, request, view=None):
        self.bare = not {self.page_query_param, self.page_size_query_param} & set(request.query_params)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        if not self.bare:
            return super().get_paginated_response(data)
        headers = {"X-Total-Count": str(self.page.paginator.count)}
        if self.get_next_link():
            headers["Link"] = f'<{self.get_next_link()}>; rel="next"'
        return Response(data, headers=headers)

    def get_paginated_response_schema(self, schema):
        return {
            "oneOf": [
                {**schema, "description": "Without `page` or `page_size`: the first page as a bare array."},
                super().get_paginated_response_schema(schema),
            ]
        }


class ItemsPagination(PageNumberPagination):
    """`{count, next, previous, items}`: the old clients of `/chatbots` read `.items`."""

    schema_prefix = "Items"

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["items"] = response.data.pop("results")
        return response

    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        envelope["properties"]["items"] = envelope["properties"].pop("results")
        envelope["required"] = ["count", "items"]
        return envelope
