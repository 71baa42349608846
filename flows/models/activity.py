from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from flows.models.conversations import Conversation


class FlowActivity(TenantModel):
    """What the flow engine did in a conversation, as the old chatbot's activity log kept it.

    One row per burst the engine processed (with how long it took), per subflow change and
    per file received; listed per conversation (API `conversations/<id>/activity/`, admin)
    and deleted after RETENTION_ACTIVITY_LOGS_DAYS by the nightly retention job.
    """

    class Kind(models.TextChoices):
        MESSAGE_PROCESSED = "message_processed", _("Message processed")
        SUBFLOW_CHANGED = "subflow_changed", _("Subflow changed")
        FILE_RECEIVED = "file_received", _("File received")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="activity", verbose_name=_("conversation")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    duration_ms = models.PositiveIntegerField(_("processing time (ms)"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("flow activity")
        verbose_name_plural = _("flow activity")
        ordering = ["-id"]
        # The conversation's activity list, newest first.
        indexes = [models.Index(fields=["conversation", "-id"], name="flows_activity_by_conversation")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.conversation_id}"
