from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel

MAX_VARIATIONS = 4  # alternatives besides `text`: five texts in all


class FlowTemplate(TenantModel):
    """A chatbot: a named set of flows (the public API calls it a *chatbot*)."""

    name = models.CharField(_("name"), max_length=200, help_text=_("e.g. Atendimento Loja"))
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("flow template")
        verbose_name_plural = _("flow templates")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Flow(models.Model):
    """A conversation design. The organization's default active flow answers new contacts."""

    template = models.ForeignKey(
        FlowTemplate, on_delete=models.CASCADE, related_name="flows", verbose_name=_("flow template")
    )
    name = models.CharField(_("name"), max_length=200, help_text=_("e.g. Boas-vindas"))
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(
        _("default"), default=False, help_text=_("Answers contacts who have no active conversation")
    )
    is_active = models.BooleanField(_("active"), default=True)
    order_index = models.PositiveIntegerField(_("order"), default=0)
    # Bumped whenever its subflows or messages change; keys the engine's in-process cache.
    content_version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("flow")
        verbose_name_plural = _("flows")
        ordering = ["template_id", "order_index", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["template"], condition=models.Q(is_default=True), name="flows_flow_one_default_per_template"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def organization_id(self) -> int:
        return self.template.organization_id


class Subflow(models.Model):
    """A branch of a flow; a reply matching one of its keywords jumps to its first message."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="subflows", verbose_name=_("flow"))
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent subflow"),
        help_text=_("Its keywords are tried first while the conversation is in the parent"),
    )
    name = models.CharField(_("name"), max_length=200, help_text=_("e.g. Preços"))
    description = models.TextField(_("description"), blank=True)
    trigger_keywords = models.JSONField(
        _("trigger keywords"),
        default=list,
        blank=True,
        help_text=_('Whole words, case and accents ignored, e.g. ["preço", "valor"]'),
    )
    order_index = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("subflow")
        verbose_name_plural = _("subflows")
        ordering = ["flow_id", "order_index", "id"]

    def __str__(self):
        return self.name

    @property
    def organization_id(self) -> int:
        return self.flow.template.organization_id

    def clean(self):
        keywords = self.trigger_keywords
        if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
            raise ValidationError({"trigger_keywords": _("Must be a list of non-empty words.")})
        if self.parent_id and self.parent.flow_id != self.flow_id:
            raise ValidationError({"parent": _("The parent must belong to the same flow.")})


class FlowMessage(models.Model):
    """One message of a subflow, sent in `order_index` order."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        IMAGE = "image", _("Image")
        DOCUMENT = "document", _("Document")
        AUDIO = "audio", _("Audio")
        VIDEO = "video", _("Video")

    subflow = models.ForeignKey(Subflow, on_delete=models.CASCADE, related_name="messages", verbose_name=_("subflow"))
    message_type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.TEXT)
    text = models.TextField(
        _("text"), blank=True, help_text=_("May use variables, e.g. Olá {{customer_name}}! (the caption of media)")
    )
    variations = models.JSONField(
        _("variations"),
        default=list,
        blank=True,
        help_text=_("Up to 4 alternative texts; each contact gets one of the five at random"),
    )
    media_url = models.URLField(_("media URL"), max_length=1000, blank=True)
    order_index = models.PositiveIntegerField(_("order"), default=0)
    wait_for_response = models.BooleanField(_("wait for a reply"), default=False)
    wait_for_file = models.BooleanField(_("wait for a file"), default=False)
    expected_file_types = models.JSONField(
        _("expected file types"),
        default=list,
        blank=True,
        help_text=_('Extensions or MIME types, e.g. ["pdf", "image/*"]; empty accepts any file'),
    )
    reprompt_text = models.TextField(
        _("re-prompt"), blank=True, help_text=_("Sent while waiting for a file and something else arrives")
    )
    variable_name = models.SlugField(
        _("save reply as"), max_length=64, blank=True, help_text=_("Variable that keeps the reply, e.g. cpf")
    )
    delay_seconds = models.PositiveIntegerField(
        _("delay (seconds)"), default=0, help_text=_("Wait this long before sending this message")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("flow message")
        verbose_name_plural = _("flow messages")
        ordering = ["subflow_id", "order_index", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(wait_for_response=True, wait_for_file=True),
                name="flows_flowmessage_one_kind_of_wait",
            ),
        ]

    def __str__(self):
        return (self.text or self.media_url or self.get_message_type_display())[:60]

    @property
    def organization_id(self) -> int:
        return self.subflow.flow.template.organization_id

    def clean(self):
        errors = {}
        if not isinstance(self.variations, list) or not all(isinstance(v, str) for v in self.variations):
            errors["variations"] = _("Must be a list of texts.")
        elif len(self.variations) > MAX_VARIATIONS:
            errors["variations"] = _("At most %(n)d alternative texts.") % {"n": MAX_VARIATIONS}
        if not isinstance(self.expected_file_types, list) or not all(
            isinstance(t, str) and t.strip() for t in self.expected_file_types
        ):
            errors["expected_file_types"] = _("Must be a list of extensions or MIME types.")
        if self.wait_for_response and self.wait_for_file:
            errors["wait_for_file"] = _("A message waits for a reply or for a file, not both.")
        if self.message_type != self.Type.TEXT and not self.media_url:
            errors["media_url"] = _("Required for media messages.")
        if self.message_type == self.Type.TEXT and not self.text.strip():
            errors["text"] = _("Required for text messages.")
        if errors:
            raise ValidationError(errors)


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
    external_ticket_id = models.CharField(_("external ticket id"), max_length=64, blank=True)
    external_contact_id = models.CharField(_("external contact id"), max_length=64, blank=True)
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
    sequence = models.PositiveIntegerField(default=0, help_text=_("Order among sends due together"))
    continues = models.BooleanField(default=False, help_text=_("After it is sent, the flow goes on from its message"))
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


def received_file_path(instance: "ReceivedFile", filename: str) -> str:
    return f"received/{instance.organization_id}/{instance.contact_id}/{filename}"


class ReceivedFile(TenantModel):
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="files",
        verbose_name=_("conversation"),
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="received_files", verbose_name=_("contact")
    )
    flow_message = models.ForeignKey(
        FlowMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("requested by")
    )
    original_name = models.CharField(_("original name"), max_length=255, blank=True)
    file = models.FileField(_("stored file"), upload_to=received_file_path, max_length=500, blank=True)
    file_type = models.CharField(_("type"), max_length=100, blank=True, help_text=_("MIME type, e.g. application/pdf"))
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    media_url = models.URLField(_("media URL"), max_length=1000, blank=True)
    processed = models.BooleanField(_("processed"), default=False)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("received file")
        verbose_name_plural = _("received files")
        ordering = ["-id"]

    def __str__(self):
        return self.original_name or self.media_url


class SystemSetting(TenantModel):
    """A bot setting of one organization; keys without a row use the environment's default."""

    class Type(models.TextChoices):
        STRING = "string", _("Text")
        BOOLEAN = "boolean", _("Yes/no")
        NUMBER = "number", _("Number")
        JSON = "json", _("JSON")

    key = models.CharField(_("key"), max_length=64, help_text=_("e.g. BOT_ENABLED"))
    value = models.TextField(_("value"), blank=True, help_text=_('As text: true, 3000, active, ["+5511999999999"]'))
    value_type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.STRING)
    description = models.CharField(_("description"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("system setting")
        verbose_name_plural = _("system settings")
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="flows_systemsetting_unique_key"),
        ]

    def __str__(self):
        return self.key

    def clean(self):
        from flows.controls import SettingError, parse_setting

        try:
            parse_setting(self.key, self.value)
        except SettingError as exc:
            raise ValidationError({"value": str(exc)}) from None
