"""The admin's choice-step editor: on a flow message's page, its options and settings as inlines.

The same page holds the message's no-reply timer ("no reply within X minutes, go to …").

A message becomes a choice step when it has options; the options' formset checks the
step as a whole (2–10 options, unique ids and labels, Meta's limits where the
organization has a Cloud API number) with `flows.choice_design`, so the admin refuses
what the API and import refuse. Subflows offered are those of the message's flow.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from unfold.admin import StackedInline, TabularInline

from accounts.admin import TenantAdmin
from flows.choice_design import choice_problems, normalized
from flows.models import ChoiceOption, ChoiceStep, FlowMessage, Subflow, WaitTimeout


class ChoiceOptionForm(forms.ModelForm):
    def clean(self):
        data = super().clean()
        # An empty id comes from the label, before the formset checks ids are unique.
        if not data.get("key") and data.get("label"):
            data["key"] = slugify(data["label"])[:64]
            self.instance.key = data["key"]
        return data


class ChoiceOptionFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [f.cleaned_data for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not kept:
            return
        kept.sort(key=lambda data: data.get("order_index") or 0)
        document = normalized(
            {
                "options": [
                    {
                        "key": d.get("key", ""),
                        "label": d.get("label", ""),
                        "description": d.get("description", ""),
                        "goto": d.get("target_subflow"),
                    }
                    for d in kept
                ]
            }
        )
        if problems := choice_problems(self.instance, document):
            raise ValidationError(list(problems.values()))


class FlowScopedInline:
    """Offers only the subflows of the message's own flow."""

    def get_formset(self, request, obj=None, **kwargs):
        request.choice_flow_id = obj.subflow.flow_id if obj is not None else None
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Subflow:
            kwargs["queryset"] = Subflow.objects.filter(flow_id=getattr(request, "choice_flow_id", None))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ChoiceOptionInline(FlowScopedInline, TabularInline):
    model = ChoiceOption
    form = ChoiceOptionForm
    formset = ChoiceOptionFormSet
    extra = 0
    fields = ["order_index", "label", "key", "description", "target_subflow"]
    ordering = ["order_index", "id"]


class ChoiceStepInline(FlowScopedInline, StackedInline):
    model = ChoiceStep
    extra = 0
    max_num = 1
    can_delete = False
    fields = [("max_reprompts", "other_subflow"), "reprompt_text", "list_button"]


class WaitTimeoutInline(FlowScopedInline, StackedInline):
    """A waiting message's (reply, file or choice) no-reply branch."""

    model = WaitTimeout
    extra = 0
    max_num = 1
    fields = [("after_minutes", "subflow")]


@admin.register(FlowMessage)
class FlowMessageAdmin(TenantAdmin):
    """A message's own page: where its options are edited (the subflow's page lists its messages)."""

    organization_field = "subflow__flow__template__organization"
    list_display = ["__str__", "subflow", "order_index", "options_count"]
    list_select_related = ["subflow__flow"]
    search_fields = ["text", "subflow__name"]
    fields = ["subflow", "text", ("wait_for_response", "variable_name")]
    readonly_fields = ["subflow"]
    inlines = [ChoiceOptionInline, ChoiceStepInline, WaitTimeoutInline]

    def has_add_permission(self, request):
        return False

    def has_module_permission(self, request):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(options_total=Count("choice_options"))

    @admin.display(description=_("options"), ordering="options_total")
    def options_count(self, obj):
        return obj.options_total


def choice_link(message: FlowMessage) -> str:
    """The link from a subflow's message to its options."""
    if not message.pk:
        return ""
    count = message.choice_options.count()
    label = _("Options (%(n)d)") % {"n": count} if count else _("Make it a choice")
    return format_html('<a href="{}">{}</a>', reverse("admin:flows_flowmessage_change", args=[message.pk]), label)
