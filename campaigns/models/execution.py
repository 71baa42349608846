from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from campaigns.models.campaign import Campaign


class Execution(TenantModel):
    """One start of a campaign.

    State transitions:
        queued -> running -> completed
        running -> paused -> running       (pause_reason says who paused it)
        queued|running|paused -> cancelled
        queued|running -> failed
        completed -> running               (only when an operator re-queues recipients)
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    class Type(models.TextChoices):
        MANUAL = "manual", _("Manual")
        SCHEDULED = "scheduled", _("Scheduled")
        TEST = "test", _("Test")
        EVENT = "event", _("Inbound event")

    class PauseReason(models.TextChoices):
        OPERATOR = "operator", _("Paused by an operator")
        CAMPAIGN = "campaign", _("Campaign paused")
        INSTANCE_DISCONNECTED = "instance_disconnected", _("WhatsApp number disconnected")
        MESSAGE_REFUSED = "message_refused", _("The provider refuses the step's message (template or parameters)")

    TRANSITIONS = {
        Status.QUEUED: {Status.RUNNING, Status.CANCELLED, Status.FAILED},
        Status.RUNNING: {Status.PAUSED, Status.COMPLETED, Status.CANCELLED, Status.FAILED},
        Status.PAUSED: {Status.RUNNING, Status.CANCELLED},
        Status.COMPLETED: {Status.RUNNING},
        Status.CANCELLED: set(),
        Status.FAILED: set(),
    }
    LIVE = (Status.QUEUED, Status.RUNNING, Status.PAUSED)
    ENDED = (Status.COMPLETED, Status.CANCELLED, Status.FAILED)

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="executions"
    )
    type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.MANUAL)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("triggered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    trigger_event = models.CharField(_("trigger event"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    pause_reason = models.CharField(_("pause reason"), max_length=32, choices=PauseReason.choices, blank=True)
    pause_detail = models.CharField(_("pause detail"), max_length=300, blank=True)
    total_recipients = models.PositiveIntegerField(_("recipients"), default=0)
    # Outside the window or over a daily cap nothing is claimed before this.
    waiting_until = models.DateTimeField(_("waiting until"), null=True, blank=True)
    # Last time a dispatcher worked on it; the sweep restarts executions whose dispatcher died.
    heartbeat_at = models.DateTimeField(_("heartbeat at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    stats = models.JSONField(_("final counts"), default=dict, blank=True)
    # Campaign settings this execution runs with instead (a schedule's `modify` exception),
    # e.g. {"rate_limit_per_hour": 3000}; kept as they were when it started.
    settings = models.JSONField(_("changed settings"), default=dict, blank=True)

    class Meta:
        verbose_name = _("execution")
        verbose_name_plural = _("executions")
        ordering = ["-id"]
        indexes = [
            # The sweep and max_concurrent_executions look at live executions only.
            models.Index(
                fields=["campaign", "status"],
                condition=Q(status__in=["queued", "running", "paused"]),
                name="campaigns_execution_live",
            ),
        ]

    def __str__(self):
        return f"{self.campaign} #{self.id}"

    def campaign_with_settings(self):
        """Its campaign, with the settings this execution runs with (`settings`) applied in memory."""
        from datetime import time

        campaign = self.campaign
        for name, value in (self.settings or {}).items():
            if name.startswith("execution_window_") and isinstance(value, str):
                value = time.fromisoformat(value)
            setattr(campaign, name, value)
        return campaign

    def transition(self, to: str, *, source: str | None = None, **fields) -> bool:
        """Move to `to` (from `source` only, if given) when the machine allows it; checked in the UPDATE."""
        sources = [state for state, targets in self.TRANSITIONS.items() if to in targets]
        if source is not None:
            sources = [state for state in sources if state == source]
        updated = Execution.objects.filter(id=self.id, status__in=sources).update(status=to, **fields)
        if updated:
            self.status = to
            for name, value in fields.items():
                setattr(self, name, value)
            if to in self.ENDED:
                from config.metrics import EXECUTIONS_ENDED

                transaction.on_commit(EXECUTIONS_ENDED.labels(to).inc)
        return bool(updated)
