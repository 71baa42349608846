"""The admin's "waiting for a person" list: open handoffs, oldest first, with the last messages."""

from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.admin import TenantAdmin
from flows.handoff import resume
from flows.models import Handoff, MessageHistory


class OpenFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("Waiting for a person")), ("no", _("Resumed"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(resumed_at__isnull=False)
        if self.value() == "all":
            return queryset
        return queryset.filter(resumed_at__isnull=True)


@admin.register(Handoff)
class HandoffAdmin(TenantAdmin):
    list_display = ["contact", "instance", "reason", "started_at", "until", "last_messages"]
    list_filter = [OpenFilter, "reason"]
    list_select_related = ["contact", "instance"]
    search_fields = ["contact__phone", "contact__name"]
    ordering = ["started_at", "id"]
    readonly_fields = ["contact", "instance", "conversation", "reason", "started_at", "until", "resumed_at"]
    actions = ["resume_bot"]

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        # The last message each way, in the list's one query (no query per row).
        def last(direction):
            rows = MessageHistory.objects.filter(
                contact_id=OuterRef("contact_id"), instance_id=OuterRef("instance_id"), direction=direction
            )
            return Subquery(rows.order_by("-id").values("text")[:1])

        return (
            super()
            .get_queryset(request)
            .annotate(last_in=last(MessageHistory.Direction.INBOUND), last_out=last(MessageHistory.Direction.OUTBOUND))
        )

    @admin.display(description=_("last messages"))
    def last_messages(self, obj):
        lines = [("←", obj.last_in), ("→", obj.last_out)]
        return format_html_join("", "<div>{} {}</div>", ((arrow, text[:80]) for arrow, text in lines if text))

    @admin.action(description=_("Resume the bot"), permissions=["change"])
    def resume_bot(self, request, queryset):
        resumed = sum(resume(handoff=handoff) for handoff in queryset.filter(resumed_at__isnull=True))
        self.message_user(request, _("The bot answers %(n)d contact(s) again.") % {"n": resumed}, messages.SUCCESS)
