import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_time_zone


class Organization(models.Model):
    """A company using the product. Every tenant-owned row points at one."""

    name = models.CharField(_("name"), max_length=200, help_text=_("e.g. Loja Exemplo Ltda"))
    slug = models.SlugField(_("slug"), unique=True, help_text=_("Short id used in commands, e.g. loja-exemplo"))
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="America/Sao_Paulo",
        help_text=_("IANA name, e.g. America/Sao_Paulo"),
        validators=[validate_time_zone],
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A user's role in one organization."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        OPERATOR = "operator", _("Operator")
        VIEWER = "viewer", _("Viewer")

    WRITE_ROLES = (Role.ADMIN, Role.OPERATOR)

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organization")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.OPERATOR)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="accounts_membership_no_duplicates"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.organization} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in self.WRITE_ROLES


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    PREFIX_LENGTH = 8

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100, blank=True, help_text=_("What uses it, e.g. CRM integration"))
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def set_key(self) -> str:
        """Give the token a new random key and return it; only its hash is kept."""
        key = secrets.token_urlsafe(32)
        self.prefix = key[: self.PREFIX_LENGTH]
        self.key_hash = self.hash_key(key)
        return key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class TenantModel(models.Model):
    """Base of every tenant-owned model: one `organization` FK, indexed."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )

    class Meta:
        abstract = True
