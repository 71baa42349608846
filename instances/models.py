import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel


def generate_webhook_secret() -> str:
    return secrets.token_urlsafe(24)


class WhatsAppInstance(TenantModel):
    """A WhatsApp number that sends, through one provider.

    Connection state transitions (reported by the provider):
        close -> connecting -> open
        open -> close            (logged out or dropped)
        connecting -> close
    """

    class Provider(models.TextChoices):
        EVOLUTION = "evolution", _("Evolution API")
        GOSAC = "gosac", _("GOSAC")
        SANDBOX = "sandbox", _("Sandbox")

    class ConnectionState(models.TextChoices):
        OPEN = "open", _("Open")
        CONNECTING = "connecting", _("Connecting")
        CLOSE = "close", _("Closed")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. Atendimento SP"))
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices, default=Provider.SANDBOX)
    phone_number = models.CharField(
        _("phone number"), max_length=20, blank=True, help_text=_("The number it sends from, e.g. +5511999999999")
    )
    # Provider settings. Evolution: base_url, instance_name, api_key. GOSAC: base_url,
    # api_key (the Authorization header) and integration_key.
    base_url = models.URLField(_("base URL"), blank=True, help_text=_("e.g. https://evolution.example.com"))
    instance_name = models.CharField(
        _("provider instance name"),
        max_length=100,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Evolution's instance name; webhooks name the instance by it"),
    )
    api_key = models.CharField(_("API key"), max_length=255, blank=True)
    integration_key = models.CharField(_("integration key"), max_length=255, blank=True)
    api_version = models.CharField(_("API version"), max_length=4, default="v2", choices=[("v1", "v1"), ("v2", "v2")])
    webhook_secret = models.CharField(
        _("webhook secret"), max_length=64, unique=True, default=generate_webhook_secret, editable=False
    )
    connection_state = models.CharField(
        _("connection state"), max_length=16, choices=ConnectionState.choices, default=ConnectionState.CLOSE
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    health_score = models.PositiveSmallIntegerField(_("health score"), default=100)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    last_connected_at = models.DateTimeField(_("last connected at"), null=True, blank=True)
    last_disconnected_at = models.DateTimeField(_("last disconnected at"), null=True, blank=True)

    class Meta:
        verbose_name = _("WhatsApp instance")
        verbose_name_plural = _("WhatsApp instances")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(health_score__lte=100), name="instances_instance_health_score_max_100"
            ),
        ]

    def __str__(self):
        return self.name
