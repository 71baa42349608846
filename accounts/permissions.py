from rest_framework import permissions

from accounts.models import Membership
from accounts.queries import organization_roles


class HasOrganizationRole(permissions.BasePermission):
    """Members read; admins and operators write; viewers get 403 on writes.

    The queryset is already scoped to the caller's organizations (see
    `accounts.tenancy.TenantScopedMixin`), so an object of another organization is a 404
    before this runs.
    """

    message = "Your role in this organization does not allow changes (viewer)."

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        roles = organization_roles(request)
        return any(role in Membership.WRITE_ROLES for role in roles.values())

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        # Every tenant object answers `organization_id` (flows, subflows and messages through
        # their template); one that does not is refused rather than let through.
        organization_id = getattr(obj, "organization_id", None)
        return (
            organization_id is not None and organization_roles(request).get(organization_id) in Membership.WRITE_ROLES
        )
