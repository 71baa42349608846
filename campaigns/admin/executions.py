"""The back-office of executions (with their live page), recipients and the campaign log."""

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.core.exceptions import ValidationError
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.admin import TenantAdmin
from campaigns.admin import views as admin_views
from campaigns.models import CampaignLog, Execution, Recipient
from campaigns.services import controls


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
