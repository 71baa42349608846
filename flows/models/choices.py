"""A choice step: a flow message whose options each lead somewhere.

The message's `text` is the prompt. It has 2–10 `ChoiceOption`s (each with a stable
`key`, the id a tap or a vote comes back with) and one `ChoiceStep` row with the step's
settings: where an unmatched reply goes after `max_reprompts` re-prompts. Each provider
renders the options its own way (`instances.providers.choices`).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from flows.models.design import FlowMessage, Subflow

MIN_OPTIONS = 2
MAX_OPTIONS = 10
MAX_REPROMPTS = 5


class ChoiceStep(models.Model):
    """The settings of a choice step: its "other" branch and how often it re-prompts."""

    message = models.OneToOneField(
        FlowMessage, on_delete=models.CASCADE, related_name="choice", verbose_name=_("flow message")
    )
    other_subflow = models.ForeignKey(
        Subflow,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("otherwise, go to"),
        help_text=_("Where a reply that matches no option goes after the re-prompts; empty goes on in order"),
    )
    max_reprompts = models.PositiveSmallIntegerField(
        _("re-prompts"), default=2, help_text=_("How many times an unmatched reply gets the options again (0–5)")
    )
    reprompt_text = models.CharField(
        _("re-prompt"), max_length=500, blank=True, help_text=_("e.g. Não entendi. Escolha uma das opções:")
    )
    list_button = models.CharField(
        _("list button"),
        max_length=20,
        blank=True,
        help_text=_("Cloud API lists: the button that opens them, e.g. Ver opções"),
    )

    class Meta:
        verbose_name = _("choice step")
        verbose_name_plural = _("choice steps")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_reprompts__lte=MAX_REPROMPTS), name="flows_choicestep_reprompts_in_range"
            ),
        ]

    def __str__(self):
        return str(self.message)

    def clean(self):
        if self.max_reprompts > MAX_REPROMPTS:
            raise ValidationError({"max_reprompts": _("At most %(n)d re-prompts.") % {"n": MAX_REPROMPTS}})
        if self.other_subflow_id and self.message_id and self.other_subflow.flow_id != self.message.subflow.flow_id:
            raise ValidationError({"other_subflow": _("Must be a subflow of the same flow.")})


class ChoiceOption(models.Model):
    """One option of a choice step; `key` is its stable id (what a tap or a vote comes back with)."""

    message = models.ForeignKey(
        FlowMessage, on_delete=models.CASCADE, related_name="choice_options", verbose_name=_("flow message")
    )
    key = models.SlugField(
        _("id"), max_length=64, blank=True, help_text=_("Stable id of the option, e.g. precos; empty: from the label")
    )
    label = models.CharField(_("label"), max_length=100, help_text=_("What the contact sees, e.g. Preços"))
    description = models.CharField(
        _("description"), max_length=72, blank=True, help_text=_("Cloud API lists: a line under the label")
    )
    target_subflow = models.ForeignKey(
        Subflow,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("go to"),
        help_text=_("The subflow this option leads to; empty goes on in order"),
    )
    order_index = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("choice option")
        verbose_name_plural = _("choice options")
        ordering = ["message_id", "order_index", "id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "key"], name="flows_choiceoption_key_once_per_step"),
        ]

    def __str__(self):
        return self.label

    def save(self, *args, **kwargs):
        if not self.key:
            self.key = slugify(self.label)[:64] or str(self.order_index + 1)
        super().save(*args, **kwargs)

    def clean(self):
        if not self.label.strip():
            raise ValidationError({"label": _("Required.")})
        if self.target_subflow_id and self.message_id and self.target_subflow.flow_id != self.message.subflow.flow_id:
            raise ValidationError({"target_subflow": _("Must be a subflow of the same flow.")})


def option_problems(options: list[dict]) -> list[str]:
    """What is wrong with a step's options (dicts with key and label), each naming the option."""
    problems = []
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        problems.append(
            gettext("A choice has %(min)d to %(max)d options, not %(n)d.")
            % {"min": MIN_OPTIONS, "max": MAX_OPTIONS, "n": len(options)}
        )
    seen_keys, seen_labels = set(), set()
    for number, option in enumerate(options, start=1):
        key, label = option.get("key", ""), option.get("label", "").strip()
        name = label or key or str(number)
        if key in seen_keys:
            problems.append(
                gettext('Option %(n)d "%(name)s": the id %(key)s is used twice.')
                % {"n": number, "name": name, "key": key}
            )
        if label.casefold() in seen_labels:
            problems.append(
                gettext('Option %(n)d "%(name)s": two options have this label.') % {"n": number, "name": name}
            )
        seen_keys.add(key)
        seen_labels.add(label.casefold())
    return problems
