from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from campaigns.models.campaign import Campaign
from campaigns.models.execution import Execution
from campaigns.models.recipient import Recipient


class CampaignLog(TenantModel):
    """What happened to a campaign, for operators: sends, failures, pauses, disconnections."""

    class Type(models.TextChoices):
        EXECUTION_STARTED = "execution_started", _("Execution started")
        EXECUTION_COMPLETED = "execution_completed", _("Execution completed")
        EXECUTION_PAUSED = "execution_paused", _("Execution paused")
        EXECUTION_RESUMED = "execution_resumed", _("Execution resumed")
        EXECUTION_CANCELLED = "execution_cancelled", _("Execution cancelled")
        EXECUTION_WAITING = "execution_waiting", _("Execution waiting")
        MESSAGE_SENT = "message_sent", _("Message sent")
        MESSAGE_DELIVERED = "message_delivered", _("Message delivered")
        MESSAGE_READ = "message_read", _("Message read")
        MESSAGE_FAILED = "message_failed", _("Message failed")
        MESSAGE_UNKNOWN = "message_unknown", _("Send outcome unknown")
        CONTACT_OPTED_OUT = "contact_opted_out", _("Contact opted out")
        INSTANCE_DISCONNECTED = "instance_disconnected", _("WhatsApp number disconnected")
        INSTANCE_RECONNECTED = "instance_reconnected", _("WhatsApp number reconnected")
        RECIPIENTS_REQUEUED = "recipients_requeued", _("Recipients re-queued")
        UNKNOWN_RECONCILED = "unknown_reconciled", _("Unknown sends checked with the provider")
        OCCURRENCE_SKIPPED = "occurrence_skipped", _("Scheduled occurrence skipped")
        OCCURRENCE_MISSED = "occurrence_missed", _("Scheduled occurrence missed")

    class Severity(models.TextChoices):
        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        ERROR = "error", _("Error")
        CRITICAL = "critical", _("Critical")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="logs")
    execution = models.ForeignKey(
        Execution, verbose_name=_("execution"), on_delete=models.CASCADE, null=True, blank=True, related_name="logs"
    )
    recipient = models.ForeignKey(
        Recipient, verbose_name=_("recipient"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    instance = models.ForeignKey(
        "instances.WhatsAppInstance",
        verbose_name=_("WhatsApp number"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    type = models.CharField(_("type"), max_length=32, choices=Type.choices)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices, default=Severity.INFO)
    message = models.TextField(_("message"))
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("campaign log")
        verbose_name_plural = _("campaign logs")
        ordering = ["-id"]
        indexes = [models.Index(fields=["campaign", "-created_at"], name="campaigns_log_by_campaign")]

    def __str__(self):
        return self.message


def log(
    *,
    campaign,
    type: str,
    message: str,
    execution=None,
    severity: str = CampaignLog.Severity.INFO,
    recipient=None,
    instance=None,
    details: dict | None = None,
) -> CampaignLog:
    """Write one row of the campaign log (every layer writes it, so it lives beside the model)."""
    return CampaignLog.objects.create(
        organization_id=campaign.organization_id,
        campaign=campaign,
        execution=execution,
        recipient=recipient,
        contact_id=getattr(recipient, "contact_id", None),
        instance=instance,
        type=type,
        severity=severity,
        message=str(message),
        details=details or {},
    )


class SendSlot(models.Model):
    """A limiter value (next free send time in ms, or a day's send count) when there is no Redis."""

    key = models.CharField(_("key"), max_length=200, primary_key=True)
    value = models.BigIntegerField(_("value"), default=0)
    expires_at = models.DateTimeField(
        _("expires at"),
    )

    class Meta:
        verbose_name = _("send slot")
        verbose_name_plural = _("send slots")
        # The sweep deletes expired slots.
        indexes = [models.Index(fields=["expires_at"], name="campaigns_sendslot_expiry")]
