from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models.execution import Execution


class Recipient(models.Model):
    """One contact of one execution.

    State transitions (status only moves forward):
        pending -> sending -> sent -> delivered -> read -> replied -> completed
        pending -> opted_out | skipped | failed
        sending -> failed | unknown | opted_out
        sent | delivered | read | replied | unknown -> opted_out   (an opt-out reply)
        sending -> pending                  (provider proved it did not accept, or no request left: retry later)
        unknown -> sent | delivered | ...   (a late answer resolves the doubt)
        unknown | failed -> pending         (only when an operator re-queues)
    A later status may skip steps (read before delivered); an earlier one arriving late only
    fills its empty timestamp.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        REPLIED = "replied", _("Replied")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        OPTED_OUT = "opted_out", _("Opted out")
        SKIPPED = "skipped", _("Skipped")
        UNKNOWN = "unknown", _("Unknown (may have been sent)")

    PROGRESS = ["sent", "delivered", "read", "replied", "completed"]
    ENDS = ["failed", "opted_out", "skipped", "unknown"]
    TIMESTAMP_OF = {
        "sending": "claimed_at",
        "sent": "sent_at",
        "delivered": "delivered_at",
        "read": "read_at",
        "replied": "replied_at",
        "completed": "completed_at",
        "failed": "failed_at",
        "opted_out": "failed_at",
        "skipped": "failed_at",
    }
    REQUEUEABLE = ["unknown", "failed"]

    execution = models.ForeignKey(
        Execution, verbose_name=_("execution"), on_delete=models.CASCADE, related_name="recipients"
    )
    contact = models.ForeignKey(
        "contacts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+"
    )
    instance = models.ForeignKey(
        "instances.WhatsAppInstance",
        verbose_name=_("WhatsApp number"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    phone = models.CharField(_("phone"), max_length=20)
    variables = models.JSONField(_("variables"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    provider_message_id = models.CharField(_("provider message id"), max_length=128, blank=True, default="")
    conversation = models.ForeignKey(
        "flows.Conversation",
        verbose_name=_("conversation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    retry_count = models.PositiveSmallIntegerField(_("retries"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")
    # What the provider said, as it said it (Meta's Cloud API: {"code", "title", "details"}).
    # Nullable: recipients are created in bulk by SQL that names the columns it fills.
    provider_error = models.JSONField(_("provider error"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # Written (and committed) just before the claim's first request to the provider: only a
    # recipient with it may have gone out, so only such a recipient can become `unknown`.
    attempted_at = models.DateTimeField(_("attempted at"), null=True, blank=True)
    # When an `unknown` recipient was checked with its provider (`campaigns.sending.reconcile`).
    reconciled_at = models.DateTimeField(_("reconciled at"), null=True, blank=True)
    # The first claim (the old API's `started_at`) and the latest claim of a retry.
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    last_retry_at = models.DateTimeField(_("last retry at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["id"]
        indexes = [
            # The dispatcher's claim: due pending recipients of one execution, oldest first.
            models.Index(
                fields=["execution", "next_attempt_at", "id"],
                condition=Q(status="pending"),
                name="campaigns_recipient_due",
            ),
            # The sweep: `sending` leases that expired (worker died mid-send).
            models.Index(fields=["lease_expires_at"], condition=Q(status="sending"), name="campaigns_recipient_lease"),
            # Stats, progress and the recipients list filtered by status.
            models.Index(fields=["execution", "status"], name="campaigns_recipient_status"),
            # The recipients list filtered by status, newest first (the admin's order): the
            # LIMIT stops after one page however the status is spread over the table.
            models.Index(fields=["status", "-id"], name="campaigns_recipient_status_id"),
            # Sends per hour: an index-only scan of one execution's sends in a window.
            models.Index(
                fields=["execution", "sent_at"], condition=Q(sent_at__isnull=False), name="campaigns_recipient_sent"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["execution", "contact"], name="campaigns_recipient_once_per_execution"),
            # Webhooks find the recipient of a status update by (instance, provider message id).
            models.UniqueConstraint(
                fields=["instance", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="campaigns_recipient_unique_provider_message",
            ),
        ]

    def __str__(self):
        return f"{self.phone} ({self.get_status_display()})"
