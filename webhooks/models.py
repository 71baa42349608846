from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel


class WebhookEvent(TenantModel):
    """A provider event, stored before it is acknowledged, applied once.

    State transitions (`webhooks.evolution.queue`):
        pending -> applied | ignored
        pending -> failed -> pending      (retried by the sweep or `manage.py replay_webhooks`)
        pending -> superseded             (a later connection event of the same instance won)
    The dedupe key makes a second delivery of the same event (Evolution retries, an
    instance webhook and a global one both posting) an insert that does nothing.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPLIED = "applied", _("Applied")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")
        SUPERSEDED = "superseded", _("Superseded")

    class Provider(models.TextChoices):
        EVOLUTION = "evolution", _("Evolution API")
        SANDBOX = "sandbox", _("Sandbox")
        CLOUD = "cloud", _("WhatsApp Cloud API (Meta)")

    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    instance = models.ForeignKey(
        "instances.WhatsAppInstance", on_delete=models.CASCADE, related_name="+", verbose_name=_("instance")
    )
    event = models.CharField(_("event"), max_length=64, help_text=_("e.g. messages.update"))
    payload = models.JSONField(_("payload"), help_text=_("The body as received"))
    dedupe_key = models.CharField(
        _("dedupe key"), max_length=200, help_text=_("e.g. status:3EB0C431C26A1916E1A3:delivered")
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    provider_time = models.DateTimeField(
        _("provider time"),
        null=True,
        blank=True,
        help_text=_("The provider's date_time; its offset is often wrong, so it only orders events"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    result = models.CharField(_("result"), max_length=64, blank=True, help_text=_("e.g. delivered, not_campaign"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "instance", "dedupe_key"], name="webhooks_event_unique_per_instance"
            ),
        ]
        indexes = [
            # The sweep and `replay_webhooks`: events not applied yet, oldest first.
            models.Index(
                fields=["received_at"], condition=Q(status__in=["pending", "failed"]), name="webhooks_event_unapplied"
            ),
            # Connection events of one instance, newest first (coalescing reconnect storms).
            models.Index(
                fields=["instance", "-provider_time"],
                condition=Q(event="connection.update"),
                name="webhooks_event_connection",
            ),
        ]

    def __str__(self):
        return f"{self.event} #{self.id} ({self.get_status_display()})"


def _validate_keywords(value):
    from django.core.exceptions import ValidationError

    if not isinstance(value, list) or not all(isinstance(k, str) and k.strip() for k in value):
        raise ValidationError(_('Must be a list of non-empty words, e.g. ["SAIR", "PARAR"].'))


class OptOutSettings(TenantModel):
    """An organization's own opt-out / opt-in keywords (empty: the defaults in settings)."""

    opt_out_keywords = models.JSONField(
        _("opt-out keywords"),
        default=list,
        blank=True,
        validators=[_validate_keywords],
        help_text=_('Whole messages that opt a contact out, e.g. ["SAIR", "PARAR"]; empty for the defaults'),
    )
    opt_in_keywords = models.JSONField(
        _("opt-in keywords"),
        default=list,
        blank=True,
        validators=[_validate_keywords],
        help_text=_('Whole messages that opt a contact back in, e.g. ["VOLTAR"]; empty for the defaults'),
    )
    confirmation_text = models.TextField(
        _("opt-out confirmation"),
        blank=True,
        help_text=_("Sent once to a contact who opts out, e.g. Pronto, você não receberá mais mensagens."),
    )

    class Meta:
        verbose_name = _("opt-out keywords")
        verbose_name_plural = _("opt-out keywords")
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="webhooks_optoutsettings_one_per_organization"),
        ]

    def __str__(self):
        return str(self.organization)
