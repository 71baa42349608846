from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from accounts.admin import TenantAdmin
from accounts.queries import organization_ids_for
from campaigns import admin_dispatch, admin_views, dashboard
from campaigns.admin_forms import CampaignForm, TestSendForm
from campaigns.admin_views import LastExecutionProgress, progress_bar
from campaigns.models import Campaign, CampaignLog, Execution, Recipient
from campaigns.schedules.admin import ScheduleInline
from campaigns.services import authoring, controls, starting
from flows.models import Flow


class ExecutionInline(TabularInline):
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
    change_form_template = "admin/campaigns/campaign/change_form.html"
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
    actions = ["activate", "start", "pause", "resume", "cancel", "send_test"]
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
        return schedule.next_scheduled_at if schedule and schedule.is_active and schedule.next_scheduled_at else "-"

    @admin.display(description=_("progress of the last execution"))
    def progress(self, campaign):
        if not hasattr(campaign, "last_progress"):
            LastExecutionProgress.attach([campaign])
        if campaign.last_progress is None:
            return "-"
        p = campaign.last_progress
        return progress_bar(p["percent"], f"{campaign.last_execution.get_status_display()}: {p['done']}/{p['total']}")

    def get_changelist(self, request, **kwargs):
        base = super().get_changelist(request, **kwargs)

        class CampaignChangeList(base):
            def get_results(self, request):
                super().get_results(request)
                LastExecutionProgress.attach(self.result_list)

        return CampaignChangeList

    def get_urls(self):
        view = self.admin_site.admin_view
        urls = [
            path("live/dashboard/", view(dashboard.dashboard_live), name="campaigns_dashboard_live"),
            path("audience/contacts/", view(admin_views.audience_contacts), name="campaigns_audience_contacts"),
            path("trigger/cron/", view(admin_views.cron_preview), name="campaigns_cron_preview"),
            path(
                "dispatch/",
                view(lambda request: admin_dispatch.dispatch_view(self, request)),
                name="campaigns_dispatch_list",
            ),
            path(
                "<int:campaign_id>/live/",
                view(lambda request, campaign_id: admin_views.campaign_live(self, request, campaign_id)),
                name="campaigns_campaign_live",
            ),
        ]
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign = self.get_object(request, object_id)
        if campaign is not None:
            extra_context = {**(extra_context or {}), **admin_views.campaign_context(campaign=campaign)}
        return super().change_view(request, object_id, form_url, extra_context)

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
            campaign = authoring.update_campaign(campaign=obj, **arguments, **fields)
        else:
            campaign = authoring.create_campaign(
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
                    lambda c: starting.start_campaign(campaign=c, user=request.user),
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
            return starting.audience_size(campaign=campaign)
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

    @admin.action(description=_("Go live: start on their trigger (inbound events)"))
    def activate(self, request, queryset):
        activated = 0
        for campaign in queryset:
            try:
                activated += authoring.activate_campaign(campaign=campaign)
            except ValidationError as error:
                self.message_user(request, f"{campaign}: {'; '.join(error.messages)}", messages.ERROR)
        self.message_user(request, _("%(n)d campaign(s) now live on their trigger.") % {"n": activated})

    @admin.action(description=_("Pause the selected campaigns"))
    def pause(self, request, queryset):
        count = sum(controls.pause_campaign(campaign=c, user=request.user) for c in queryset)
        self.message_user(request, _("%(n)d execution(s) paused.") % {"n": count})

    @admin.action(description=_("Resume the selected campaigns"))
    def resume(self, request, queryset):
        count = sum(controls.resume_campaign(campaign=c, user=request.user) for c in queryset)
        self.message_user(request, _("%(n)d execution(s) resumed.") % {"n": count})

    @admin.action(description=_("Cancel the running executions of the selected campaigns"))
    def cancel(self, request, queryset):
        count = sum(controls.cancel_campaign(campaign=c, user=request.user) for c in queryset)
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
                lambda c: starting.start_campaign(
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
    change_form_template = "admin/campaigns/execution/change_form.html"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "campaign_link",
                    "type",
                    "status",
                    "pause_reason",
                    "pause_detail",
                    "numbers",
                    "triggered_by_name",
                ]
            },
        ),
        (
            _("Timing"),
            {"fields": ["created_at", "started_at", "completed_at", "waiting_until", "heartbeat", "trigger_event"]},
        ),
        (_("Result"), {"fields": ["total_recipients", "final_counts", "error_message"]}),
    ]
    readonly_fields = [
        "campaign_link",
        "type",
        "status",
        "pause_reason",
        "pause_detail",
        "numbers",
        "triggered_by_name",
        "created_at",
        "started_at",
        "completed_at",
        "waiting_until",
        "heartbeat",
        "trigger_event",
        "total_recipients",
        "final_counts",
        "error_message",
    ]
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

    @admin.display(description=_("campaign"))
    def campaign_link(self, execution):
        url = reverse("admin:campaigns_campaign_change", args=[execution.campaign_id])
        return format_html('<a href="{}">{}</a>', url, execution.campaign)

    @admin.display(description=_("triggered by"))
    def triggered_by_name(self, execution):
        user = execution.triggered_by
        return (user.get_full_name() or user.get_username()) if user else "-"

    @admin.display(description=_("last sign of life of its dispatcher"))
    def heartbeat(self, execution):
        # A method's value is shown as str(): format the moment as the model's own dates are (local time).
        return display_for_value(execution.heartbeat_at, "-")

    @admin.display(description=_("final counts"))
    def final_counts(self, execution):
        labels = dict(Recipient.Status.choices)
        parts = [f"{labels.get(status, status)}: {n}" for status, n in (execution.stats or {}).items() if n]
        return " · ".join(parts) or "-"

    def get_urls(self):
        live_view = self.admin_site.admin_view(
            lambda request, execution_id: admin_views.execution_live(self, request, execution_id)
        )
        return [path("<int:execution_id>/live/", live_view, name="campaigns_execution_live"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        execution = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            # Nothing on this page is edited: its buttons are the actions above the form.
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        if execution is not None:
            extra_context.update(admin_views.execution_context(execution=execution))
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Pause"))
    def pause(self, request, queryset):
        count = sum(controls.pause_execution(execution=e, user=request.user) for e in queryset)
        self.message_user(request, _("%(n)d execution(s) paused.") % {"n": count})

    @admin.action(description=_("Resume"))
    def resume(self, request, queryset):
        count = sum(controls.resume_execution(execution=e, user=request.user) for e in queryset)
        self.message_user(request, _("%(n)d execution(s) resumed.") % {"n": count})

    @admin.action(description=_("Cancel (pending recipients are skipped)"))
    def cancel(self, request, queryset):
        count = sum(controls.cancel_execution(execution=e, user=request.user) for e in queryset)
        self.message_user(request, _("%(n)d pending recipient(s) skipped.") % {"n": count})

    @admin.action(description=_("Re-queue unknown and failed recipients"))
    def requeue(self, request, queryset):
        try:
            count = sum(controls.requeue_recipients(execution=e, user=request.user) for e in queryset)
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        self.message_user(request, _("%(n)d recipient(s) re-queued.") % {"n": count})


@admin.register(Recipient)
class RecipientAdmin(TenantAdmin):
    organization_field = "execution__organization"
    list_display = ["id", "phone", "status", "execution_name", "provider_message_id", "retry_count", "sent_at", "error"]
    list_filter = ["status"]
    list_select_related = ["execution__campaign"]
    list_per_page = 50

    @admin.display(description=_("execution"), ordering="execution")
    def execution_name(self, recipient):
        return str(recipient.execution)

    search_fields = ["=phone", "=provider_message_id"]
    search_help_text = _("Whole phone (+5511999999999) or provider message id")
    raw_id_fields = ["execution", "contact", "instance", "conversation"]
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
    list_per_page = 50
    search_fields = ["message", "campaign__name"]
    raw_id_fields = ["campaign", "execution", "recipient", "contact", "instance"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


from campaigns import admin_events  # noqa: E402, F401 (registers the inbound events admin)
