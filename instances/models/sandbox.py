from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from instances.models.numbers import WhatsAppInstance


class SandboxMessage(TenantModel):
    """A message 'sent' through a sandbox instance, and the life the sandbox plays for it.

    Simulated status transitions (forward only, see `instances.providers.sandbox`):
        sent -> delivered -> read
        sent -> failed
    """

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    instance = models.ForeignKey(
        WhatsAppInstance, on_delete=models.CASCADE, related_name="sandbox_messages", verbose_name=_("instance")
    )
    to_phone = models.CharField(_("to"), max_length=32, help_text=_("e.g. +5511999999999"))
    text = models.TextField(_("text"), blank=True)
    media_url = models.URLField(_("media URL"), max_length=1000, blank=True)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    mimetype = models.CharField(_("MIME type"), max_length=100, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=64, unique=True)
    simulated_status = models.CharField(
        _("simulated status"), max_length=16, choices=Status.choices, default=Status.SENT
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sandbox message")
        verbose_name_plural = _("sandbox messages")
        ordering = ["-created_at"]
        indexes = [
            # The admin's list of one instance's messages, newest first.
            models.Index(fields=["instance", "-created_at"], name="instances_sandbox_recent_idx"),
        ]

    def __str__(self):
        return f"{self.to_phone} {self.provider_message_id}"


class InstanceDay(models.Model):
    """One instance's counters and health at the end of one local day (the last flush of that day).

    Kept by `instances.counters.apply_deltas`, one upsert per flush; the admin's health
    history chart reads it. The instance's own `*_today` fields stay the live figures.
    """

    instance = models.ForeignKey(
        WhatsAppInstance, on_delete=models.CASCADE, related_name="days", verbose_name=_("instance")
    )
    day = models.DateField(_("day"))
    sent = models.PositiveIntegerField(_("sent"), default=0)
    delivered = models.PositiveIntegerField(_("delivered"), default=0)
    read = models.PositiveIntegerField(_("read"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    replies = models.PositiveIntegerField(_("replies"), default=0)
    disconnects = models.PositiveIntegerField(_("disconnects"), default=0)
    health_score = models.PositiveSmallIntegerField(_("health score"), default=100)

    class Meta:
        verbose_name = _("instance day")
        verbose_name_plural = _("instance days")
        constraints = [models.UniqueConstraint(fields=["instance", "day"], name="instances_day_once_per_instance")]

    def __str__(self):
        return f"{self.instance_id} {self.day}"
