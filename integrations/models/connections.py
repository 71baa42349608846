from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from core import crypto
from integrations.jsoncheck import json_problem

# What each kind keeps in `settings` (plain) and in its secrets (encrypted).
SETTINGS_FIELDS = {
    "pontta": {"base_url": True, "business_unit": True},
    "google": {},
    "http": {"base_url": False, "test_path": False},
}
SECRET_FIELDS = {
    "pontta": {"email": True, "password": True},
    "google": {"service_account": True},
    "http": {"bearer_token": False},
}


def mask(value) -> str:
    """What the API and the admin show of a secret: its last 4 characters."""
    text = str(value or "")
    return f"…{text[-4:]}" if len(text) > 8 else ("…" if text else "")


class Integration(TenantModel):
    """An organization's connection to a partner system, with its secrets encrypted at rest.

    The secrets are a JSON object encrypted with `core.crypto`; they are written,
    never read back, by the API and the admin, which show `secret_hint` instead.
    """

    class Kind(models.TextChoices):
        PONTTA = "pontta", _("Pontta ERP")
        GOOGLE = "google", _("Google (Sheets and Drive)")
        HTTP = "http", _("HTTP API")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(
        _("name"), max_length=100, help_text=_("How flow steps refer to it, e.g. pontta-loja (unique per organization)")
    )
    settings = models.JSONField(
        _("settings"),
        default=dict,
        blank=True,
        help_text=_(
            'Pontta: {"base_url": "https://api.pontta.com", "business_unit": "<uuid>"}; '
            'HTTP: {"base_url": "https://crm.example.com", "test_path": "/health"}; Google: {}'
        ),
    )
    secrets_encrypted = models.TextField(_("encrypted secrets"), editable=False, blank=True)
    secret_hint = models.CharField(_("stored secrets"), max_length=300, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    last_tested_at = models.DateTimeField(_("last tested at"), null=True, blank=True, editable=False)
    last_test_ok = models.BooleanField(_("last test passed"), null=True, blank=True, editable=False)
    last_test_message = models.CharField(_("last test result"), max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="integrations_integration_name_once"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    def get_secrets(self) -> dict:
        return crypto.decrypt_json(self.secrets_encrypted)

    def set_secrets(self, secrets: dict) -> None:
        """Replace the stored secrets (merged over the current ones: a key left out is kept)."""
        merged = {**self.get_secrets(), **{k: v for k, v in secrets.items() if v not in (None, "")}}
        self.secrets_encrypted = crypto.encrypt_json(merged)
        self.secret_hint = self.hint_for(merged)

    def hint_for(self, secrets: dict) -> str:
        parts = []
        for name, value in sorted(secrets.items()):
            if name == "service_account" and isinstance(value, dict):
                parts.append(
                    f"service_account={value.get('client_email', '?')} key {mask(value.get('private_key_id'))}"
                )
            else:
                parts.append(f"{name}={mask(value)}")
        return ", ".join(parts)[:300]

    def clean(self):
        errors = {}
        if not isinstance(self.settings, dict):
            raise ValidationError({"settings": _("Must be a JSON object.")})
        if problem := json_problem(self.settings):
            raise ValidationError({"settings": problem})
        for field, required in SETTINGS_FIELDS.get(self.kind, {}).items():
            value = self.settings.get(field)
            if required and not (isinstance(value, str) and value.strip()):
                errors["settings"] = _("%(field)s is required for %(kind)s.") % {"field": field, "kind": self.kind}
            elif value is not None and not isinstance(value, str):
                errors["settings"] = _("%(field)s must be a text.") % {"field": field}
        base_url = self.settings.get("base_url")
        if isinstance(base_url, str) and base_url and not base_url.startswith(("http://", "https://")):
            errors["settings"] = _("base_url must start with http:// or https://.")
        if errors:
            raise ValidationError(errors)


def validate_secrets(kind: str, secrets, *, creating: bool) -> dict:
    """The secrets a caller sent, checked for its kind; raises ValidationError naming `secrets.<field>`."""
    if secrets in (None, ""):
        secrets = {}
    if not isinstance(secrets, dict):
        raise ValidationError({"secrets": _("Must be a JSON object.")})
    if problem := json_problem(secrets):
        raise ValidationError({"secrets": problem})
    known = SECRET_FIELDS.get(kind, {})
    for name in secrets:
        if name not in known:
            raise ValidationError({f"secrets.{name}": _("Not a secret of this kind of integration.")})
    for name, required in known.items():
        value = secrets.get(name)
        if creating and required and not value:
            raise ValidationError({f"secrets.{name}": _("Required.")})
        if name == "service_account" and value:
            if not isinstance(value, dict) or not all(value.get(k) for k in ("client_email", "private_key")):
                raise ValidationError(
                    {
                        "secrets.service_account": _(
                            "Must be the service account's JSON key (client_email, private_key)."
                        )
                    }
                )
        elif value is not None and not isinstance(value, str):
            raise ValidationError({f"secrets.{name}": _("Must be a text.")})
    return secrets
