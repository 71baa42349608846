import secrets

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import ApiToken, Membership, Organization


@transaction.atomic
def create_api_token(*, user, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for `user`; returns it and its key, which is not stored."""
    token = ApiToken(user=user, name=name)
    key = token.set_key()
    token.save()
    return token, key


@transaction.atomic
def add_member(*, organization: Organization, user, role: str = Membership.Role.OPERATOR) -> Membership:
    membership, _ = Membership.objects.update_or_create(organization=organization, user=user, defaults={"role": role})
    return membership


@transaction.atomic
def seed_demo_organization(*, admin_password: str | None) -> tuple[Organization, str | None]:
    """The demo organization and its `admin` superuser, created once.

    Returns the organization and the password if one was generated (to print once).
    """
    organization, _ = Organization.objects.get_or_create(slug="demo", defaults={"name": "Demo"})
    User = get_user_model()
    user = User.objects.filter(username="admin").first()
    generated = None
    if user is None:
        password = admin_password or secrets.token_urlsafe(12)
        generated = None if admin_password else password
        user = User.objects.create_superuser("admin", "admin@example.com", password)
    elif admin_password and not user.check_password(admin_password):
        user.set_password(admin_password)
        user.save(update_fields=["password"])
    add_member(organization=organization, user=user, role=Membership.Role.ADMIN)
    return organization, generated
