from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from flows.models.design import Flow, FlowMessage, Subflow


class Conversation(TenantModel):
    """A contact going through a flow on one instance.

    Status transitions (only through `flows.services`, by conditional UPDATE):
        active -> completed   (the flow reached its end; `conversation_completed` is sent)
        active -> ended       (replaced by a new conversation, or closed by an operator)
        active -> failed      (a message of the flow could not be sent)
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        ENDED = "ended", _("Ended")
        FAILED = "failed", _("Failed")

    class Waiting(models.TextChoices):
        NOTHING = "", _("Nothing")
        REPLY = "reply", _("A reply")
        FILE = "file", _("A file")
        DELAY = "delay", _("A delayed message")
        ACTION = "action", _("An integration's answer")
        CHOICE = "choice", _("A choice")

    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="conversations", verbose_name=_("contact")
    )
    instance = models.ForeignKey(
        "instances.WhatsAppInstance", on_delete=models.CASCADE, related_name="conversations", verbose_name=_("instance")
    )
    external_ticket_id = models.CharField(_("external ticket id"), max_length=64, blank=True)
    external_contact_id = models.CharField(
        _("external contact id"), max_length=64, blank=True, help_text=_("GOSAC's contact id, which replies go to")
    )
    external_ticket_status = models.CharField(
        _("ticket status"), max_length=32, blank=True, help_text=_("GOSAC's ticket.status, e.g. open, pending, closed")
    )
    external_ticket_user_id = models.CharField(
        _("ticket taken by"), max_length=64, blank=True, help_text=_("GOSAC's ticket.userId: the person attending it")
    )
    flow = models.ForeignKey(
        Flow, on_delete=models.SET_NULL, null=True, related_name="conversations", verbose_name=_("flow")
    )
    subflow = models.ForeignKey(
        Subflow, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("subflow")
    )
    current_message = models.ForeignKey(
        FlowMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("message")
    )
    waiting_for = models.CharField(_("waiting for"), max_length=8, choices=Waiting.choices, blank=True, default="")
    variables = models.JSONField(_("variables"), default=dict, blank=True)
    state = models.JSONField(_("state"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    last_interaction_at = models.DateTimeField(_("last interaction at"), null=True, blank=True)
    last_bot_message_at = models.DateTimeField(_("last bot message at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "instance"],
                condition=models.Q(status="active"),
                name="flows_conversation_one_active_per_contact_instance",
            ),
        ]
        indexes = [
            # Analytics and the API's list: an organization's conversations by status.
            models.Index(fields=["organization", "status"], name="flows_conv_org_status_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.contact_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def reply_to(self) -> str:
        """Who the provider sends to: GOSAC's contact id when known, else the phone."""
        return self.external_contact_id or self.contact.phone


class MessageHistory(TenantModel):
    """Every message in or out. Inbound rows wait with `processed_at` empty until the engine takes them."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("From the contact")
        OUTBOUND = "out", _("From the bot")

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="history",
        verbose_name=_("conversation"),
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="+", verbose_name=_("contact")
    )
    instance = models.ForeignKey(
        "instances.WhatsAppInstance", on_delete=models.CASCADE, related_name="+", verbose_name=_("instance")
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    message_type = models.CharField(_("type"), max_length=16, default="text")
    text = models.TextField(_("text"), blank=True)
    media_url = models.URLField(_("media URL"), max_length=1000, blank=True)
    media_path = models.CharField(_("media path"), max_length=500, blank=True)
    mimetype = models.CharField(_("MIME type"), max_length=100, blank=True)
    flow_message = models.ForeignKey(
        FlowMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("flow message")
    )
    provider_message_id = models.CharField(_("provider message id"), max_length=128, blank=True)
    choice_key = models.CharField(
        _("option tapped"),
        max_length=200,
        blank=True,
        help_text=_("The id of the button or list row the contact tapped"),
    )
    external_ticket_id = models.CharField(_("external ticket id"), max_length=64, blank=True)
    external_contact_id = models.CharField(_("external contact id"), max_length=64, blank=True)
    external_ticket_status = models.CharField(_("ticket status"), max_length=32, blank=True)
    external_ticket_user_id = models.CharField(_("ticket taken by"), max_length=64, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("message history")
        verbose_name_plural = _("message history")
        ordering = ["id"]
        constraints = [
            # A webhook delivered twice records (and answers) its message once.
            models.UniqueConstraint(
                fields=["instance", "provider_message_id"],
                condition=models.Q(direction="in") & ~models.Q(provider_message_id=""),
                name="flows_history_inbound_once",
            ),
        ]
        indexes = [
            # The debounce's burst: one contact's inbound messages the engine has not taken yet.
            models.Index(
                fields=["instance", "contact", "created_at"],
                condition=models.Q(direction="in", processed_at__isnull=True),
                name="flows_history_unprocessed_idx",
            ),
        ]

    @property
    def from_bot(self) -> bool:
        return self.direction == self.Direction.OUTBOUND


class ScheduledSend(models.Model):
    """A bot message to send at `due_at`, claimed exactly once like a campaign recipient.

    Status transitions (see `flows.sending`):
        pending -> sending -> sent
        pending -> sending -> pending   (provider unavailable: retried later)
        pending -> sending -> failed | unknown
        pending -> cancelled            (the conversation moved on or ended)
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")
        CANCELLED = "cancelled", _("Cancelled")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="scheduled_sends", verbose_name=_("conversation")
    )
    flow_message = models.ForeignKey(
        FlowMessage, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("flow message")
    )
    text = models.TextField(_("text"), blank=True, help_text=_("Rendered when scheduled"))
    sequence = models.PositiveIntegerField(_("sequence"), default=0, help_text=_("Order among sends due together"))
    continues = models.BooleanField(
        _("continues the flow"),
        default=False,
        help_text=_("After it is sent, the flow goes on from its message"),
    )
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("scheduled send")
        verbose_name_plural = _("scheduled sends")
        ordering = ["due_at", "sequence", "id"]
        indexes = [
            # The sweep's claim: due pending sends, oldest first.
            models.Index(fields=["due_at"], condition=models.Q(status="pending"), name="flows_scheduled_due_idx"),
        ]
