""" "Dispatch this flow to a list": paste numbers or upload a CSV, preview, map, start — one screen.

The preview imports nothing: it runs the contacts import as a dry run (one transaction
rolled back, so its counts are exact) and lists the invalid rows. Starting imports the
rows for real (`contacts.services.contacts_import_text`), creates the campaign with the
chosen numbers and the column → variable mapping (`authoring.create_campaign`,
audience: exactly the imported contacts) and starts it (`start_campaign`), or, given a
date and time, gives it a `scheduled` trigger: a once schedule the ticker starts then.
"""

import csv
import io
import re

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from accounts.queries import organization_ids_for
from campaigns.models import Campaign
from campaigns.services import authoring, starting
from contacts.imports import FIELD_ALIASES, ContactImportError, import_contacts
from contacts.services import contacts_import_text
from flows.models import Flow, FlowMessage
from instances.models import WhatsAppInstance

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
PREVIEW_ERRORS_SHOWN = 50
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
FIXED = "__fixed__"


def flow_variables(flow: Flow) -> list[str]:
    """The `{{variables}}` the flow's messages use (dotted ones, like `contact.name`, excluded)."""
    names: list[str] = []
    for text, variations in FlowMessage.objects.filter(subflow__flow=flow).values_list("text", "variations"):
        for piece in [text or "", *(variations or [])]:
            for name in PLACEHOLDER.findall(str(piece)):
                if name not in names:
                    names.append(name)
    return names


def column_source(column: str) -> str:
    """The contact field a CSV column lands in, as a mapping placeholder."""
    lowered = column.strip().lower()
    for name, aliases in FIELD_ALIASES.items():
        if lowered in aliases:
            return "{{contact." + name + "}}"
    return "{{contact.custom_fields." + column.strip() + "}}"


class DispatchForm(forms.Form):
    flow = forms.ModelChoiceField(queryset=Flow.objects.none(), label=_("Flow"), widget=UnfoldAdminSelectWidget)
    numbers = forms.CharField(
        label=_("Numbers or CSV"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "11 99999-9999\n+55 21 3333-4444"}),
        help_text=_("One number a line, or a CSV with a header (phone/telefone, nome, other columns)."),
    )
    file = forms.FileField(label=_("or upload a CSV"), required=False)
    instances = forms.ModelMultipleChoiceField(
        queryset=WhatsAppInstance.objects.none(),
        label=_("WhatsApp numbers that send"),
        widget=forms.CheckboxSelectMultiple,
    )
    name = forms.CharField(label=_("Campaign name"), max_length=200, required=False, widget=UnfoldAdminTextInputWidget)
    start_at = forms.DateTimeField(
        label=_("Start at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: start now. A date and time: the campaign starts then (a once schedule)."),
    )

    def __init__(self, *args, organization_ids=None, **kwargs):
        super().__init__(*args, **kwargs)
        flows = Flow.objects.select_related("template").filter(is_active=True).order_by("template__name", "name")
        numbers = WhatsAppInstance.objects.order_by("name")
        if organization_ids is not None:
            flows = flows.filter(template__organization__in=organization_ids)
            numbers = numbers.filter(organization__in=organization_ids)
        self.fields["flow"].queryset = flows
        self.fields["instances"].queryset = numbers

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload:
            if upload.size > MAX_UPLOAD_BYTES:
                self.add_error("file", _("The file is over 5 MB; import it under Contact imports first."))
                return cleaned
            raw = upload.read()
            try:
                cleaned["numbers"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                cleaned["numbers"] = raw.decode("cp1252", errors="replace")
        start_at = cleaned.get("start_at")
        if start_at and start_at <= timezone.now():
            self.add_error("start_at", _("Choose a time in the future, or leave it empty to start now."))
        if not (cleaned.get("numbers") or "").strip():
            self.add_error("numbers", _("Paste numbers or upload a CSV."))
        flow, numbers = cleaned.get("flow"), cleaned.get("instances") or []
        if flow and any(n.organization_id != flow.template.organization_id for n in numbers):
            self.add_error("instances", _("Choose numbers of the flow's organization."))
        return cleaned

    @property
    def text(self) -> str:
        return self.cleaned_data.get("numbers") or ""

    @property
    def is_csv(self) -> bool:
        first = self.text.lstrip().splitlines()[0] if self.text.strip() else ""
        return any(sep in first for sep in ",;\t") or not re.search(r"\d", first)

    def columns(self) -> list[str]:
        if not self.is_csv:
            return []
        first = self.text.lstrip().splitlines()[0]
        delimiter = max(",;\t", key=first.count)
        return [c.strip() for c in next(csv.reader(io.StringIO(first), delimiter=delimiter)) if c.strip()]


def preview(*, organization, text: str, numbers_only: bool) -> dict:
    """Counts and invalid rows of a dry run: nothing is saved."""
    try:
        result = import_contacts(
            organization=organization, lines=text.splitlines(keepends=True), numbers_only=numbers_only, dry_run=True
        )
    except ContactImportError as error:
        return {"fatal": str(error)}
    return {
        "rows": result.rows,
        "valid": result.rows - result.invalid,
        "created": result.created,
        "updated": result.updated,
        "invalid": result.invalid,
        "errors": result.errors[:PREVIEW_ERRORS_SHOWN],
    }


def mapping_from_post(post, variables: list[str]) -> dict[str, str]:
    """`{{customer_name}}` ← column `nome`, or a fixed text, per flow variable."""
    mapping = {}
    for name in variables:
        source = post.get(f"map_{name}", "")
        if source == FIXED:
            mapping[name] = post.get(f"fixed_{name}", "")
        elif source:
            mapping[name] = column_source(source)
    return mapping


def dispatch_view(model_admin, request):
    organization_ids = None if request.user.is_superuser else organization_ids_for(request, write=True)
    initial = {"flow": request.GET.get("flow")} if request.GET.get("flow") else None
    form = DispatchForm(request.POST or None, request.FILES or None, organization_ids=organization_ids, initial=initial)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Dispatch a flow to a list"),
        "form": form,
        "fixed": FIXED,
    }
    if request.method == "POST" and form.is_valid():
        flow = form.cleaned_data["flow"]
        organization = flow.template.organization
        variables = flow_variables(flow)
        numbers_only = not form.is_csv
        context.update(
            {
                "preview": preview(organization=organization, text=form.text, numbers_only=numbers_only),
                "variables": variables,
                "columns": form.columns(),
                "pasted": form.text,
            }
        )
        if "start" in request.POST and not context["preview"].get("fatal"):
            mapping = mapping_from_post(request.POST, variables)
            try:
                started = start_dispatch(
                    request=request,
                    form=form,
                    organization=organization,
                    numbers_only=numbers_only,
                    mapping=mapping,
                )
            except ValidationError as error:
                messages.error(request, "; ".join(error.messages))
            else:
                if isinstance(started, Campaign):
                    at = timezone.localtime(form.cleaned_data["start_at"]).strftime("%d/%m/%Y %H:%M")
                    messages.success(request, _("Scheduled: the campaign starts at %(at)s.") % {"at": at})
                    return redirect("admin:campaigns_campaign_change", started.id)
                messages.success(
                    request,
                    _("Started: execution #%(id)s with %(n)d recipient(s).")
                    % {"id": started.id, "n": started.total_recipients},
                )
                return redirect("admin:campaigns_execution_change", started.id)
    return TemplateResponse(request, "admin/campaigns/dispatch.html", context)


@transaction.atomic
def start_dispatch(*, request, form, organization, numbers_only: bool, mapping: dict):
    flow = form.cleaned_data["flow"]
    result = contacts_import_text(organization=organization, text=form.text, numbers_only=numbers_only)
    ids = sorted({i for i in result.ids or [] if i is not None})
    if not ids:
        raise ValidationError(_("No valid number in the list."))
    name = form.cleaned_data.get("name") or _("%(flow)s to a list, %(at)s") % {
        "flow": flow.name,
        "at": timezone.localtime().strftime("%d/%m/%Y %H:%M"),
    }
    start_at = form.cleaned_data.get("start_at")
    trigger = {}
    if start_at:
        trigger = {"trigger_type": "scheduled", "trigger_config": {"scheduled_at": start_at.isoformat()}}
    campaign = authoring.create_campaign(
        organization=organization,
        template=flow.template,
        flow=flow,
        instances=list(form.cleaned_data["instances"]),
        created_by=request.user,
        name=name,
        audience_type="custom",
        audience_config={"contact_ids": ids},
        variable_mapping=mapping,
        **trigger,
    )
    if start_at:
        return campaign  # its once schedule starts it
    return starting.start_campaign(campaign=campaign, user=request.user)
