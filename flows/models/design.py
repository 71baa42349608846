import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from core.bounds import in_range_constraint, within
from integrations.jsoncheck import json_problem
from integrations.models import ACTION_KINDS

# A message may wait up to a week before it is sent.
MESSAGE_BOUNDS = {"delay_seconds": (0, 7 * 86_400)}

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
    content_version = models.PositiveIntegerField(_("content version"), default=0, editable=False)
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
    hands_off = models.BooleanField(
        _("hand off to a person"),
        default=False,
        help_text=_("Reaching this subflow pauses the bot for the contact until a person resumes it"),
    )
    is_global = models.BooleanField(
        _("global keywords"),
        default=False,
        help_text=_("Its keywords interrupt any step of a running conversation, e.g. menu, atendente"),
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
        _("delay (seconds)"),
        default=0,
        help_text=_("Wait this long before sending this message"),
        validators=within(MESSAGE_BOUNDS, "delay_seconds"),
    )
    action = models.CharField(
        _("action"),
        max_length=32,
        blank=True,
        choices=ACTION_KINDS,
        help_text=_("Instead of sending a text, call an integration (runs in the background; the flow waits)"),
    )
    action_config = models.JSONField(
        _("action settings"),
        default=dict,
        blank=True,
        help_text=_(
            'e.g. {"integration": "pontta-loja", "params": {"subject": "Pedido {{order}}", '
            '"message": "{{last_reply}}"}, "outputs": {"ticket_id": "ticket_id"}} (docs/integrations.md)'
        ),
    )
    on_error_subflow = models.ForeignKey(
        Subflow,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on error, go to"),
        help_text=_("The subflow the conversation goes to when the action fails; empty goes on"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("flow message")
        verbose_name_plural = _("flow messages")
        ordering = ["subflow_id", "order_index", "id"]
        constraints = [
            in_range_constraint(MESSAGE_BOUNDS, name="flows_flowmessage_numbers_in_range"),
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
        if self.message_type == self.Type.TEXT and not self.text.strip() and not self.action:
            errors["text"] = _("Required for text messages.")
        if self.action:
            if self.wait_for_response or self.wait_for_file or self.delay_seconds:
                errors["action"] = _("An action neither waits for the contact nor has a delay.")
            errors.update(validate_action_config(self.action, self.action_config))
            if self.on_error_subflow_id and self.subflow_id and self.on_error_subflow.flow_id != self.subflow.flow_id:
                errors["on_error_subflow"] = _("Must be a subflow of the same flow.")
        elif self.action_config:
            errors["action_config"] = _("Only for action steps.")
        if errors:
            raise ValidationError(errors)


# The settings of an action step (`FlowMessage.action_config`), checked by `FlowMessage.clean`.
_VARIABLE = re.compile(r"^[A-Za-z_][\w]{0,63}$")
REQUIRED_PARAMS = {
    "pontta_create_ticket": ("subject", "message"),
    "pontta_list_tickets": ("contact_id",),
    "gosac_get_contact": (),
    "sheets_append_row": ("spreadsheet_id", "values"),
    "sheets_lookup": ("spreadsheet_id", "column", "value"),
    "drive_upload_file": ("folder_id",),
    "http_request": ("url",),
}

# Actions that need no integration: an HTTP call may name one; GOSAC's is the conversation's number.
NO_INTEGRATION = {"http_request", "gosac_get_contact"}


def validate_action_config(action: str, config) -> dict:
    """Errors of an action step's settings, keyed `action_config` (empty when valid)."""
    if action not in REQUIRED_PARAMS:
        return {"action": gettext("Unknown action.")}
    if not isinstance(config, dict):
        return {"action_config": gettext("Must be a JSON object.")}
    if problem := json_problem(config):
        return {"action_config": problem}
    unknown = set(config) - {"integration", "params", "outputs"}
    if unknown:
        return {"action_config": gettext("Unknown key %(key)s.") % {"key": sorted(unknown)[0]}}
    integration = config.get("integration", "")
    if not isinstance(integration, str) or (action not in NO_INTEGRATION and not integration.strip()):
        return {"action_config": gettext("integration: the name of one of the organization's integrations.")}
    params = config.get("params", {})
    if not isinstance(params, dict):
        return {"action_config": gettext("params must be an object.")}
    for name in REQUIRED_PARAMS[action]:
        if params.get(name) in (None, "", []):
            return {"action_config": gettext("params.%(name)s is required for this action.") % {"name": name}}
    if action == "sheets_append_row" and not isinstance(params.get("values"), list):
        return {"action_config": gettext("params.values must be a list of columns.")}
    outputs = config.get("outputs", {})
    if not isinstance(outputs, dict) or not all(
        isinstance(k, str) and _VARIABLE.match(k) and isinstance(v, str) and v for k, v in outputs.items()
    ):
        return {
            "action_config": gettext('outputs maps variable names to result fields, e.g. {"ticket_id": "ticket_id"}.')
        }
    return {}
