from django.contrib import admin

from accounts.admin import TenantAdmin
from instances.models import SandboxMessage


@admin.register(SandboxMessage)
class SandboxMessageAdmin(TenantAdmin):
    list_display = ["created_at", "instance", "to_phone", "text", "simulated_status", "replied_at"]
    list_filter = ["simulated_status"]
    search_fields = ["to_phone", "provider_message_id", "text"]
    list_select_related = ["instance"]
    readonly_fields = [f.name for f in SandboxMessage._meta.fields]

    def has_add_permission(self, request):
        return False
