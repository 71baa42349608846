"""Tenant scoping for the API: every viewset starts from the caller's organizations (STYLE rule 12)."""

from django.utils.translation import gettext as _
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from accounts.models import Organization
from accounts.queries import organization_ids_for, organization_roles


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
