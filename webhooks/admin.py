from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from accounts.admin import TenantAdmin
from core.admin_widgets import TagFieldsMixin
from webhooks.evolution import queue
from webhooks.models import OptOutSettings, WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(TenantAdmin):
    list_display = ["id", "event", "instance", "status", "result", "attempts", "received_at"]
    list_filter = ["status", "provider", "event"]
    search_fields = ["=dedupe_key"]
    list_select_related = ["instance"]
    readonly_fields = [field.name for field in WebhookEvent._meta.fields]
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Apply the selected events again"))
    def replay(self, request, queryset):
        results = queue.replay(event_ids=list(queryset.values_list("id", flat=True)), force=True)
        summary = ", ".join(f"{result}: {count}" for result, count in sorted(results.items()))
        self.message_user(request, _("Replayed: %(summary)s") % {"summary": summary}, messages.SUCCESS)


@admin.register(OptOutSettings)
class OptOutSettingsAdmin(TagFieldsMixin, TenantAdmin):
    tag_fields = ("opt_out_keywords", "opt_in_keywords")
    list_display = ["organization", "opt_out_keywords", "opt_in_keywords"]
