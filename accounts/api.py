"""The shared pieces every API module uses: tenant scoping and error shape."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers, viewsets
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, Throttled, ValidationError
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import Organization
from accounts.queries import organization_ids_for, organization_roles
from config.ratelimit import api_auth_failures, client_ip


class TenantScopedMixin:
    """Scopes `queryset` to the caller's organizations and fills `organization` on create.

    Every tenant-owned viewset uses this, so an object of another organization is a
    404 everywhere, by one mechanism. `organization_field` names the path to the
    organization when the model reaches it through a relation.
    """

    organization_field = "organization"

    def get_queryset(self):
        queryset = super().get_queryset()
        organization_ids = list(organization_roles(self.request))
        return queryset.filter(**{f"{self.organization_field}__in": organization_ids})

    def get_write_organization(self) -> Organization:
        """The organization a new object goes to: the one named, or the caller's only one."""
        writable = organization_ids_for(self.request, write=True)
        requested = self.request.data.get("organization") if hasattr(self.request.data, "get") else None
        if requested in (None, ""):
            if len(writable) != 1:
                raise ValidationError(
                    {"organization": [_("Required: you belong to several organizations; name one by id.")]}
                )
            return Organization.objects.get(id=writable[0])
        try:
            requested = int(requested)
        except (TypeError, ValueError):
            raise ValidationError({"organization": [_("Must be an organization id.")]}) from None
        if requested not in writable:
            raise ValidationError({"organization": [_("You cannot write to organization %s.") % requested]})
        return Organization.objects.get(id=requested)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["organization_ids"] = list(organization_roles(self.request)) if self.request else []
        return context

    def perform_create(self, serializer):
        serializer.save(organization=self.get_write_organization())


class TenantModelViewSet(TenantScopedMixin, viewsets.ModelViewSet):
    """Rows of your organizations (another organization's are 404); viewers read, admins and operators write."""


class TenantReadOnlyViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Rows of your organizations (another organization's are 404), read only."""


class TenantPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related-object field that only accepts rows of the caller's organizations.

    An id of another organization gets the same error as an id that does not exist.
    """

    organization_field = "organization"
    default_error_messages = {"read_only": _("Your role in this object's organization does not allow changes.")}

    def get_queryset(self):
        queryset = super().get_queryset()
        organization_ids = self.context.get("organization_ids", [])
        return queryset.filter(**{f"{self.organization_field}__in": organization_ids})

    def to_internal_value(self, data):
        # Only ever read for a write: what refers to an object puts something into its
        # organization, so the caller's role there must allow writes (a viewer there: 400).
        related = super().to_internal_value(data)
        request = self.context.get("request")
        if request is not None and related.organization_id not in organization_ids_for(request, write=True):
            self.fail("read_only")
        return related


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
