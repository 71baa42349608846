from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.admin import TenantAdmin
from accounts.queries import organization_ids_for
from campaigns import services, stats
from campaigns.models import Campaign, CampaignLog, Execution, Recipient
from campaigns.schedules.admin import ScheduleInline
from contacts.models import Contact
from flows.models import Flow
from instances.models import WhatsAppInstance

# The service names fields as the API does; the form names them as the model does.
FORM_FIELD_OF = {"chatbot_id": "template", "flow_id": "flow", "whatsapp_number_id": "whatsapp_number"}


class CampaignForm(forms.ModelForm):
    """Validated by `services.validate_campaign`, saved by `services.create/update_campaign`."""

    whatsapp_number = forms.ModelChoiceField(
        queryset=WhatsAppInstance.objects.none(),
        label=_("WhatsApp number"),
        help_text=_("The number that sends (the API's whatsapp_number_id)."),
    )
    more_whatsapp_numbers = forms.ModelMultipleChoiceField(
        queryset=WhatsAppInstance.objects.none(),
        required=False,
        label=_("More WhatsApp numbers"),
        help_text=_("They share the load with the first one, by health and free rate."),
    )
    # Set by CampaignAdmin.get_form: the organizations the user may write to (None: all).
    organization_ids = None

    class Meta:
        model = Campaign
        fields = ["organization", "template", "flow", *services.CAMPAIGN_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        numbers = WhatsAppInstance.objects.select_related("organization").order_by("name")
        if self.organization_ids is not None:
            numbers = numbers.filter(organization__in=self.organization_ids)
        for name in ("whatsapp_number", "more_whatsapp_numbers"):
            if name in self.fields:
                self.fields[name].queryset = numbers
        if self.instance.pk and "whatsapp_number" in self.fields:
            first, *more = self.instance.ordered_instances() or [None]
            self.initial.setdefault("whatsapp_number", first)
            self.initial.setdefault("more_whatsapp_numbers", more)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        organization = self.instance.organization if self.instance.pk else cleaned.get("organization")
        arguments = self.service_arguments()
        try:
            if self.instance.pk:
                services.check_editable(self.instance)
            services.validate_campaign(
                organization=organization,
                template=arguments["template"],
                flow=arguments["flow"],
                instances=arguments["instances"],
                fields=arguments["fields"],
            )
        except ValidationError as error:
            for name, messages_ in error.message_dict.items():
                name = FORM_FIELD_OF.get(name, name)
                self.add_error(name if name in self.fields else None, messages_)
        return cleaned

    def service_arguments(self) -> dict:
        cleaned = self.cleaned_data
        first = cleaned.get("whatsapp_number")
        more = [number for number in cleaned.get("more_whatsapp_numbers") or [] if number != first]
        return {
            "template": cleaned.get("template"),
            "flow": cleaned.get("flow"),
            "instances": [first, *more] if first else [],
            "fields": {name: cleaned[name] for name in services.CAMPAIGN_FIELDS if name in cleaned},
        }


class ExecutionInline(admin.TabularInline):
    model = Execution
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["id", "type", "status", "pause_reason", "total_recipients", "started_at", "completed_at"]
    readonly_fields = fields
    ordering = ["-id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(TenantAdmin):
    list_display = [
        "name",
        "status",
        "progress",
        "audience_type",
        "total_sent",
        "total_failed",
        "last_executed_at",
        "next_run",
    ]
    list_filter = ["status", "trigger_type", "audience_type"]
    search_fields = ["name", "description"]
    list_select_related = ["template", "flow", "schedule"]
    form = CampaignForm
    inlines = [ScheduleInline, ExecutionInline]
    fieldsets = [
        (None, {"fields": "organization name description status".split()}),
        (_("What is sent"), {"fields": "template flow whatsapp_number more_whatsapp_numbers variable_mapping".split()}),
        (_("Who receives it"), {"fields": ["audience_type", "audience_config"]}),
        (
            _("When"),
            {"fields": "trigger_type trigger_config execution_window_start execution_window_end time_zone".split()},
        ),
        (
            _("Limits and retries"),
            {
                "fields": (
                    "max_concurrent_executions rate_limit_per_hour min_interval_seconds interval_jitter_seconds "
                    "pause_every_n_sends pause_seconds retry_failed max_retries"
                ).split()
            },
        ),
        (
            _("Totals"),
            {
                "fields": (
                    "total_executions total_sent total_delivered total_read total_replied total_completed "
                    "total_failed last_executed_at created_by created_at updated_at"
                ).split()
            },
        ),
    ]
    actions = ["start", "pause", "resume", "cancel", "send_test"]
    readonly_fields = [
        "status",
        "created_by",
        "created_at",
        "updated_at",
        "deleted_at",
        "total_executions",
        "total_sent",
        "total_delivered",
        "total_read",
        "total_replied",
        "total_completed",
        "total_failed",
        "last_executed_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(deleted_at__isnull=True)

    @admin.display(description=_("next run"), ordering="schedule__next_scheduled_at")
    def next_run(self, campaign):
        schedule = getattr(campaign, "schedule", None)
        return schedule.next_scheduled_at if schedule and schedule.next_scheduled_at else "-"

    @admin.display(description=_("progress of the last execution"))
    def progress(self, campaign):
        execution = campaign.executions.exclude(type=Execution.Type.TEST).order_by("-id").first()
        if execution is None:
            return "-"
        counts = stats.status_counts(execution.recipients.all())
        total = sum(counts.values())
        done = total - counts["pending"] - counts["sending"]
        return f"{execution.get_status_display()}: {done}/{total}"

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "organization"] if obj is not None else readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        ids = None if request.user.is_superuser else organization_ids_for(request, write=True)
        return type(form.__name__, (form,), {"organization_ids": ids})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "flow" and not request.user.is_superuser:
            org_ids = organization_ids_for(request, write=True)
            kwargs["queryset"] = Flow.objects.filter(template__organization__in=org_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        arguments = form.service_arguments()
        fields = arguments.pop("fields")
        if change:
            campaign = services.update_campaign(campaign=obj, **arguments, **fields)
        else:
            campaign = services.create_campaign(
                organization=obj.organization, created_by=request.user, **arguments, **fields
            )
        # The admin goes on with `obj` (inlines, log entry, redirect): make it the saved row.
        obj.pk, obj._state.adding = campaign.pk, False
        obj.refresh_from_db()

    @admin.action(description=_("Start the selected campaigns"))
    def start(self, request, queryset):
        if request.POST.get("confirmed"):
            for campaign in queryset:
                self._run(
                    request,
                    campaign,
                    lambda c: services.start_campaign(campaign=c, user=request.user),
                    _("%(name)s started: execution #%(id)s with %(n)d recipient(s)."),
                )
            return None
        rows = [(campaign, self._audience_size(campaign)) for campaign in queryset]
        return TemplateResponse(
            request,
            "admin/campaigns/start_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Start campaigns?"),
                "rows": rows,
                "queryset": queryset,
                "action": "start",
                "opts": self.model._meta,
            },
        )

    @staticmethod
    def _audience_size(campaign):
        try:
            return services.audience_size(campaign=campaign)
        except ValidationError as error:
            return "; ".join(error.messages)

    def _run(self, request, campaign, call, success):
        try:
            execution = call(campaign)
        except ValidationError as error:
            self.message_user(request, f"{campaign}: {'; '.join(error.messages)}", messages.ERROR)
            return
        self.message_user(
            request, success % {"name": campaign.name, "id": execution.id, "n": execution.total_recipients}
        )

    @admin.action(description=_("Pause the selected campaigns"))
    def pause(self, request, queryset):
        count = sum(services.pause_campaign(campaign=c, user=request.user) for c in queryset)
        self.message_user(request, _("%(n)d execution(s) paused.") % {"n": count})

    @admin.action(description=_("Resume the selected campaigns"))
    def resume(self, request, queryset):
        count = sum(services.resume_campaign(campaign=c, user=request.user) for c in queryset)
        self.message_user(request, _("%(n)d execution(s) resumed.") % {"n": count})

    @admin.action(description=_("Cancel the running executions of the selected campaigns"))
    def cancel(self, request, queryset):
        count = sum(services.cancel_campaign(campaign=c, user=request.user) for c in queryset)
        self.message_user(request, _("Cancelled; %(n)d pending recipient(s) skipped.") % {"n": count})

    @admin.action(description=_("Send a test to chosen contacts"))
    def send_test(self, request, queryset):
        campaign = queryset.first()
        form = TestSendForm(request.POST if request.POST.get("confirmed") else None, campaign=campaign)
        if form.is_bound and form.is_valid():
            ids = [contact.id for contact in form.cleaned_data["contacts"]]
            self._run(
                request,
                campaign,
                lambda c: services.start_campaign(
                    campaign=c,
                    user=request.user,
                    test_mode=True,
                    test_contact_ids=ids,
                ),
                _("Test of %(name)s sent as execution #%(id)s to %(n)d contact(s)."),
            )
            return None
        return TemplateResponse(
            request,
            "admin/campaigns/send_test.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Send a test of %(name)s") % {"name": campaign},
                "form": form,
                "queryset": queryset.filter(id=campaign.id),
                "action": "send_test",
                "opts": self.model._meta,
            },
        )


class TestSendForm(forms.Form):
    contacts = forms.ModelMultipleChoiceField(queryset=Contact.objects.none(), label=_("Contacts"))

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        contacts = Contact.objects.filter(
            organization=campaign.organization, is_active=True, opted_out_at__isnull=True
        ).order_by("name")
        # Any reachable contact is accepted; only the first 500 are offered (a sliced
        # queryset would refuse every choice: Django filters it to validate).
        self.fields["contacts"].queryset = contacts
        self.fields["contacts"].widget.choices = [(contact.pk, str(contact)) for contact in contacts[:500]]


@admin.register(Execution)
class ExecutionAdmin(TenantAdmin):
    list_display = [
        "id",
        "campaign",
        "type",
        "status",
        "pause_reason",
        "pause_detail",
        "total_recipients",
        "started_at",
        "completed_at",
    ]
    list_filter = ["status", "type", "pause_reason"]
    list_select_related = ["campaign"]
    search_fields = ["campaign__name"]
    readonly_fields = [*(f.name for f in Execution._meta.fields), "numbers"]
    actions = ["pause", "resume", "cancel", "requeue"]

    @admin.display(description=_("WhatsApp numbers"))
    def numbers(self, obj):
        """Each number of the campaign and why it can or cannot send now."""
        from instances.connection import describe

        rows = [describe(instance) for instance in obj.campaign.ordered_instances()]
        return format_html_join(
            mark_safe("<br>"),
            "{}: {} {}",
            ((row["name"], row["why"], row["connection_reason"]) for row in rows),
        )

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Pause"))
    def pause(self, request, queryset):
        count = sum(services.pause_execution(execution=e, user=request.user) for e in queryset)
        self.message_user(request, _("%(n)d execution(s) paused.") % {"n": count})

    @admin.action(description=_("Resume"))
    def resume(self, request, queryset):
        count = sum(services.resume_execution(execution=e, user=request.user) for e in queryset)
        self.message_user(request, _("%(n)d execution(s) resumed.") % {"n": count})

    @admin.action(description=_("Cancel (pending recipients are skipped)"))
    def cancel(self, request, queryset):
        count = sum(services.cancel_execution(execution=e, user=request.user) for e in queryset)
        self.message_user(request, _("%(n)d pending recipient(s) skipped.") % {"n": count})

    @admin.action(description=_("Re-queue unknown and failed recipients"))
    def requeue(self, request, queryset):
        try:
            count = sum(services.requeue_recipients(execution=e, user=request.user) for e in queryset)
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        self.message_user(request, _("%(n)d recipient(s) re-queued.") % {"n": count})


class NoCountPaginator(Paginator):
    """Millions of rows: never COUNT(*) them for the page links."""

    @cached_property
    def count(self):
        return 10**9


@admin.register(Recipient)
class RecipientAdmin(TenantAdmin):
    organization_field = "execution__organization"
    list_display = ["id", "phone", "status", "execution", "provider_message_id", "retry_count", "sent_at", "error"]
    list_filter = ["status"]
    search_fields = ["=phone", "=provider_message_id"]
    raw_id_fields = ["execution", "contact", "instance", "conversation"]
    show_full_result_count = False
    paginator = NoCountPaginator
    readonly_fields = [f.name for f in Recipient._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CampaignLog)
class CampaignLogAdmin(TenantAdmin):
    list_display = ["created_at", "campaign", "execution_id", "type", "severity", "message"]
    list_filter = ["severity", "type"]
    list_select_related = ["campaign"]
    search_fields = ["message", "campaign__name"]
    raw_id_fields = ["campaign", "execution", "recipient", "contact", "instance"]
    show_full_result_count = False
    paginator = NoCountPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
