"""The campaigns' back-office: campaigns, with their executions inline, start and test-send actions."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from accounts.admin import TenantAdmin
from accounts.queries import organization_ids_for
from campaigns import dashboard, variables
from campaigns.admin import dispatch as admin_dispatch
from campaigns.admin import views as admin_views
from campaigns.admin.forms import CampaignForm, TestSendForm
from campaigns.admin.schedules import ScheduleInline
from campaigns.admin.views import LastExecutionProgress, progress_bar
from campaigns.models import Campaign, Execution
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
        rows = [(campaign, self._audience_size(campaign), self._start_problems(campaign)) for campaign in queryset]
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

    @staticmethod
    def _start_problems(campaign) -> list[str]:
        """What would refuse the start, shown before it (the same messages the start answers)."""
        try:
            variables.check_flow_placeholders(campaign)
        except ValidationError as error:
            return error.messages
        return []

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
