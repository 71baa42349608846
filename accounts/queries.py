"""Reads about who may see what. Every tenant-scoped queryset starts here."""

from django.db.models import QuerySet

from accounts.models import Membership, Organization


def organization_ids_for(user, *, write: bool = False) -> list[int]:
    """Ids of the organizations `user` belongs to (with a write role if `write`)."""
    if not user or not user.is_authenticated:
        return []
    memberships = Membership.objects.filter(user=user, organization__is_active=True)
    if write:
        memberships = memberships.filter(role__in=Membership.WRITE_ROLES)
    return list(memberships.values_list("organization_id", flat=True))


def organizations_for(user) -> QuerySet[Organization]:
    if user.is_superuser:
        return Organization.objects.all()
    return Organization.objects.filter(id__in=organization_ids_for(user))


def scope_to_user(queryset: QuerySet, user, *, field: str = "organization") -> QuerySet:
    """Restrict a tenant-owned queryset to the organizations `user` belongs to."""
    return queryset.filter(**{f"{field}__in": organization_ids_for(user)})


def role_in(user, organization_id: int) -> str | None:
    return Membership.objects.filter(user=user, organization_id=organization_id).values_list("role", flat=True).first()
