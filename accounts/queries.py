"""Reads about who may see what. Every tenant-scoped queryset starts here."""

from accounts.models import Membership


def organization_roles(request) -> dict[int, str]:
    """{organization id: role} of the caller's active organizations, read once per request.

    The API's scoping and permissions and the admin's all ask this many times a request.
    """
    roles = getattr(request, "_organization_roles", None)
    if roles is None:
        user = request.user
        roles = {}
        if user and user.is_authenticated:
            roles = dict(
                Membership.objects.filter(user=user, organization__is_active=True).values_list(
                    "organization_id", "role"
                )
            )
        request._organization_roles = roles
    return roles


def organization_ids_for(request, *, write: bool = False) -> list[int]:
    """Ids of the caller's organizations (only those where the role may write, if `write`)."""
    roles = organization_roles(request)
    return [org_id for org_id, role in roles.items() if not write or role in Membership.WRITE_ROLES]
