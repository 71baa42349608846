"""Inbound business events (`POST /api/v1/events`) in the admin: what arrived and what it started.

Read-only: an operator checks here why an event started nothing (no live campaign subscribes,
the contact opted out, the campaign refused) without reading logs.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.admin import TenantAdmin
from campaigns.models import InboundEvent


class OutcomeFilter(admin.SimpleListFilter):
    title = _("outcome")
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [("started", _("started something")), ("nothing", _("started nothing"))]

    def queryset(self, request, queryset):
        if self.value() == "started":
            return queryset.exclude(result__started=[])
        if self.value() == "nothing":
            return queryset.filter(result__started=[])
        return queryset


@admin.register(InboundEvent)
class InboundEventAdmin(TenantAdmin):
    list_display = ["created_at", "event", "contact", "started_count", "outcome"]
    list_filter = [OutcomeFilter, "event"]
    list_select_related = ["contact"]
    list_per_page = 50
    search_fields = ["event", "idempotency_key", "contact__phone", "contact__name"]
    fields = ["event", "idempotency_key", "contact", "created_at", "started", "skipped", "data"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("started"))
    def started_count(self, event):
        return len((event.result or {}).get("started") or [])

    @admin.display(description=_("outcome"))
    def outcome(self, event):
        return (event.result or {}).get("message", "")

    @admin.display(description=_("executions started"))
    def started(self, event):
        rows = (event.result or {}).get("started") or []
        if not rows:
            return "-"
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">#{}</a> ({} #{})',
            (
                (
                    reverse("admin:campaigns_execution_change", args=[row["execution_id"]]),
                    row["execution_id"],
                    _("campaign"),
                    row["flow_automation_id"],
                )
                for row in rows
            ),
        )

    @admin.display(description=_("campaigns that did not start"))
    def skipped(self, event):
        rows = (event.result or {}).get("skipped") or []
        if not rows:
            return "-"
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{} #{}</a>: {}',
            (
                (
                    reverse("admin:campaigns_campaign_change", args=[row["flow_automation_id"]]),
                    _("campaign"),
                    row["flow_automation_id"],
                    _("the contact opted out") if row.get("reason") == "opted_out" else row.get("reason", ""),
                )
                for row in rows
            ),
        )
