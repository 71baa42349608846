from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import StackedInline, TabularInline

from accounts.admin import TenantAdmin
from contacts.services import contact_get_or_create
from core.admin_widgets import TagFieldsMixin
from core.forms import JSON_FORM_FIELDS
from flows import admin_handoff  # noqa: F401 (registers the handoffs' list)
from flows.admin_choices import choice_link
from flows.inbound import simulate_message, simulate_start
from flows.models import (
    Conversation,
    Flow,
    FlowActivity,
    FlowMessage,
    FlowTemplate,
    MessageHistory,
    ReceivedFile,
    ScheduledSend,
    Subflow,
    SystemSetting,
)
from flows.models.settings import SETTINGS
from flows.queries import action_runs_of
from instances.models import WhatsAppInstance

SIMULATOR_PHONE = "+5511900000001"


def flow_tree(flow) -> list[dict]:
    """The flow's subflows as a tree (parents first, in order), each with its keywords and messages; two queries."""
    subflows = list(flow.subflows.order_by("order_index", "id"))
    messages_of: dict[int, list] = {}
    for message in FlowMessage.objects.filter(subflow__flow=flow).order_by("order_index", "id"):
        messages_of.setdefault(message.subflow_id, []).append(message)
    ids = {subflow.id for subflow in subflows}
    nodes = {
        subflow.id: {
            "subflow": subflow,
            "keywords": subflow.trigger_keywords if isinstance(subflow.trigger_keywords, list) else [],
            "messages": messages_of.get(subflow.id, []),
            "children": [],
        }
        for subflow in subflows
    }
    roots = []
    for subflow in subflows:
        if subflow.parent_id in ids and subflow.parent_id != subflow.id:
            nodes[subflow.parent_id]["children"].append(nodes[subflow.id])
        else:
            roots.append(nodes[subflow.id])
    return roots


class FlowInline(TabularInline):
    model = Flow
    extra = 0
    fields = ["name", "is_default", "is_active", "order_index", "edit_link"]
    readonly_fields = ["edit_link"]
    ordering = ["order_index", "id"]

    @admin.display(description=_("subflows"))
    def edit_link(self, obj):
        if not obj.pk:
            return ""
        return format_html('<a href="{}">{}</a>', reverse("admin:flows_flow_change", args=[obj.pk]), _("Edit"))


@admin.register(FlowTemplate)
class FlowTemplateAdmin(TenantAdmin):
    list_display = ["name", "organization", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    inlines = [FlowInline]
    readonly_fields = ["created_by", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class SubflowInline(TagFieldsMixin, TabularInline):
    formfield_overrides = JSON_FORM_FIELDS
    model = Subflow
    tag_fields = ("trigger_keywords",)
    fk_name = "flow"
    extra = 0
    fields = ["name", "trigger_keywords", "is_global", "hands_off", "parent", "order_index", "is_active", "edit_link"]
    readonly_fields = ["edit_link"]
    ordering = ["order_index", "id"]

    @admin.display(description=_("messages"))
    def edit_link(self, obj):
        if not obj.pk:
            return ""
        return format_html('<a href="{}">{}</a>', reverse("admin:flows_subflow_change", args=[obj.pk]), _("Edit"))


@admin.register(Flow)
class FlowAdmin(TenantAdmin):
    organization_field = "template__organization"
    list_display = ["name", "template", "is_default", "is_active", "order_index", "simulate_link"]
    list_filter = ["is_default", "is_active"]
    list_select_related = ["template"]
    search_fields = ["name", "template__name"]
    inlines = [SubflowInline]
    exclude = ["content_version"]
    change_form_template = "admin/flows/flow/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        flow = self.get_object(request, object_id)
        if flow is not None:
            extra_context = {**(extra_context or {}), "flow_tree": flow_tree(flow)}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        urls = [path("<int:flow_id>/simulate/", self.admin_site.admin_view(self.simulate), name="flows_flow_simulate")]
        return urls + super().get_urls()

    @admin.display(description=_("simulate"))
    def simulate_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:flows_flow_simulate", args=[obj.pk]), _("Simulate"))

    def simulate(self, request, flow_id):
        """Type as a contact, see the bot's answers through the organization's sandbox instance."""
        flow = get_object_or_404(self.get_queryset(request).select_related("template"), pk=flow_id)
        organization = flow.template.organization
        instance = WhatsAppInstance.objects.filter(
            organization=organization, provider=WhatsAppInstance.Provider.SANDBOX
        ).first()
        contact = conversation = None
        if instance is not None:
            contact, _created = contact_get_or_create(
                organization=organization, phone=SIMULATOR_PHONE, name=str(_("Simulator"))
            )
            conversation = Conversation.objects.filter(contact=contact, instance=instance).order_by("-id").first()
            if request.method == "POST":
                text = request.POST.get("text", "").strip()
                running = conversation is not None and conversation.is_active and conversation.flow_id == flow.id
                if not self.has_change_permission(request, flow):
                    messages.error(request, _("You cannot change this flow's organization."))
                elif "restart" in request.POST or not running:
                    # Like a contact's first message: it starts the flow rather than answer it.
                    simulate_start(instance=instance, contact=contact, flow=flow, text=text)
                elif text:
                    simulate_message(instance=instance, contact=contact, text=text)
                return redirect("admin:flows_flow_simulate", flow_id=flow.id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Simulate %(flow)s") % {"flow": flow.name},
            "original": flow,  # the header's path: Flows › Flows › the flow
            "flow": flow,
            "instance": instance,
            "contact": contact,
            "conversation": conversation,
            "history": conversation.history.order_by("id") if conversation else [],
            "pending": conversation.scheduled_sends.filter(status="pending") if conversation else [],
            "poll_seconds": settings.ADMIN_POLL_SECONDS,
        }
        return TemplateResponse(request, "admin/flows/simulate.html", context)


class FlowMessageInline(TagFieldsMixin, StackedInline):
    formfield_overrides = JSON_FORM_FIELDS
    model = FlowMessage
    fk_name = "subflow"
    tag_fields = ("expected_file_types",)
    extra = 0
    ordering = ["order_index", "id"]
    fields = [
        ("order_index", "message_type", "is_active"),
        "text",
        "variations",
        "media_url",
        ("wait_for_response", "variable_name"),
        ("wait_for_file", "expected_file_types"),
        "reprompt_text",
        "delay_seconds",
        ("action", "on_error_subflow"),
        "action_config",
        "options",
    ]
    readonly_fields = ["options"]

    @admin.display(description=_("choice"))
    def options(self, obj):
        return choice_link(obj)


@admin.register(Subflow)
class SubflowAdmin(TagFieldsMixin, TenantAdmin):
    tag_fields = ("trigger_keywords",)
    organization_field = "flow__template__organization"
    list_display = ["name", "flow", "parent", "trigger_keywords", "order_index", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["flow", "parent"]
    search_fields = ["name", "flow__name"]
    inlines = [FlowMessageInline]


class MessageHistoryInline(TabularInline):
    model = MessageHistory
    extra = 0
    can_delete = False
    fields = ["created_at", "direction", "message_type", "text", "media_url", "provider_message_id"]
    readonly_fields = fields
    ordering = ["id"]

    def has_add_permission(self, request, obj=None):
        return False


class FlowActivityInline(TabularInline):
    model = FlowActivity
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "duration_ms", "details"]
    readonly_fields = fields
    ordering = ["-id"]

    def has_add_permission(self, request, obj=None):
        return False


class ScheduledSendInline(TabularInline):
    model = ScheduledSend
    extra = 0
    can_delete = False
    fields = ["due_at", "status", "text", "attempts", "last_error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(TenantAdmin):
    list_display = [
        "id",
        "contact",
        "instance",
        "flow",
        "subflow",
        "status",
        "waiting_for",
        "external_ticket_status",
        "last_interaction_at",
    ]
    list_filter = ["status", "waiting_for"]
    list_select_related = ["contact", "instance", "flow", "subflow"]
    search_fields = ["contact__phone", "contact__name", "external_ticket_id"]
    readonly_fields = [*(f.name for f in Conversation._meta.fields if f.name != "id"), "action_runs"]
    inlines = [MessageHistoryInline, ScheduledSendInline, FlowActivityInline]
    show_full_result_count = False

    @admin.display(description=_("integration actions"))
    def action_runs(self, obj):
        rows = [
            (
                run.created_at,
                run.get_action_display(),
                run.integration or "",
                run.get_status_display(),
                run.latency_ms,
                run.error,
            )
            for run in action_runs_of(conversation=obj)[:50]
        ]
        if not rows:
            return "—"
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("at"),
            _("action"),
            _("integration"),
            _("status"),
            _("latency (ms)"),
            _("error"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    def has_add_permission(self, request):
        return False


@admin.register(ReceivedFile)
class ReceivedFileAdmin(TenantAdmin):
    list_display = ["original_name", "contact", "file_type", "size", "processed", "created_at"]
    list_filter = ["processed", "file_type"]
    list_select_related = ["contact"]
    search_fields = ["original_name", "contact__phone"]
    readonly_fields = ["conversation", "contact", "flow_message", "media_url", "size", "created_at"]


@admin.register(FlowActivity)
class FlowActivityAdmin(TenantAdmin):
    """The engine's activity log; `?conversation=<id>` lists one conversation's."""

    list_display = ["created_at", "conversation", "kind", "duration_ms"]
    list_filter = ["kind"]
    list_select_related = ["conversation__contact"]
    search_fields = ["conversation__contact__phone"]
    readonly_fields = ["conversation", "kind", "duration_ms", "details", "created_at"]
    show_full_result_count = False

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "conversation" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request):
        return False


@admin.register(SystemSetting)
class SystemSettingAdmin(TenantAdmin):
    list_display = ["key", "value", "value_type", "organization", "updated_at"]
    search_fields = ["key"]
    readonly_fields = ["value_type"]

    def save_model(self, request, obj, form, change):
        obj.value_type, description = SETTINGS[obj.key]
        obj.description = obj.description or str(description)
        super().save_model(request, obj, form, change)
