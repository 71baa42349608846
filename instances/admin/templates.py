from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import TenantAdmin
from instances.models import MessageTemplate


@admin.register(MessageTemplate)
class MessageTemplateAdmin(TenantAdmin):
    """What Meta has for each account, read-only: the sync and Meta's notices keep it."""

    list_display = ["name", "language", "category", "status", "sendable", "quality", "reason", "synced_at"]
    list_filter = ["status", "category", "language"]
    search_fields = ["name", "business_account_id"]
    readonly_fields = [f.name for f in MessageTemplate._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("sendable"), boolean=True)
    def sendable(self, obj):
        return obj.sendable
