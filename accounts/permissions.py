from rest_framework import permissions

from accounts.models import Membership


class HasOrganizationRole(permissions.BasePermission):
    """Members read; admins and operators write; viewers get 403 on writes.

    The queryset is already scoped to the caller's organizations (see
    `accounts.api.TenantScopedMixin`), so an object of another organization is a 404
    before this runs.
    """

    message = "Your role in this organization does not allow changes (viewer)."

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        roles = _roles_of(request)
        return any(role in Membership.WRITE_ROLES for role in roles.values())

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        organization_id = getattr(obj, "organization_id", None)
        if organization_id is None:
            return True
        return _roles_of(request).get(organization_id) in Membership.WRITE_ROLES


def _roles_of(request) -> dict[int, str]:
    """{organization id: role} for the caller, computed once per request."""
    roles = getattr(request, "_organization_roles", None)
    if roles is None:
        roles = dict(
            Membership.objects.filter(user=request.user, organization__is_active=True).values_list(
                "organization_id", "role"
            )
        )
        request._organization_roles = roles
    return roles


def organization_roles(request) -> dict[int, str]:
    return _roles_of(request)
