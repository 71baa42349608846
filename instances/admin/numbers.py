from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import TenantAdmin
from accounts.models import Membership
from accounts.queries import organization_roles
from instances import connection, qr_codes, services, templates
from instances.admin.filters import HealthFilter, NeedsQrLoginFilter
from instances.admin.forms import TestMessageForm, WhatsAppInstanceForm
from instances.models import InstanceDay, WhatsAppInstance
from instances.providers.base import ProviderError

BADGE = '<span style="background:{};color:#fff;border-radius:8px;padding:1px 8px;white-space:nowrap">{}</span>'
STATE_COLORS = {"open": "#2e7d32", "connecting": "#ef6c00", "close": "#c62828"}
QR_LOGIN_COLOR = "#6d4c41"
PROVIDER_COLORS = {"evolution": "#1565c0", "gosac": "#6a1b9a", "cloud": "#00796b", "sandbox": "#546e7a"}


def _milliseconds(params, name: str) -> int:
    """A query parameter holding milliseconds since the epoch; 0 when absent."""
    value = params.get(name) or "0"
    if not value.isascii() or not value.isdigit() or len(value) > 15:
        raise ValueError(_("%(name)s must be milliseconds since the epoch") % {"name": name})
    return int(value)


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000) if moment else 0


def health_color(score: int) -> str:
    return "#2e7d32" if score >= 80 else "#ef6c00" if score >= 50 else "#c62828"


@admin.register(WhatsAppInstance)
class WhatsAppInstanceAdmin(TenantAdmin):
    form = WhatsAppInstanceForm
    list_display = [
        "name",
        "provider_badge",
        "state_badge",
        "health_badge",
        "sent_today",
        "delivered_today",
        "read_today",
        "failed_today",
        "replies_today",
        "cap_today",
        "last_connected_at",
    ]
    list_filter = ["provider", "connection_state", NeedsQrLoginFilter, "status", HealthFilter]
    search_fields = ["name", "instance_name", "phone_number"]
    list_select_related = ["organization"]
    readonly_fields = ["webhook_url", "cap_today", *WhatsAppInstance.REPORTED_FIELDS]
    fieldsets = [
        (None, {"fields": ["organization", "name", "provider", "phone_number", "status"]}),
        (
            _("Provider settings"),
            {
                "fields": [
                    "base_url",
                    "instance_name",
                    "api_version",
                    "api_key",
                    "integration_key",
                    "configure_webhook_on_save",
                    "supports_polls",
                    "webhook_url",
                ]
            },
        ),
        (
            _("Cloud API (Meta)"),
            {
                "fields": [
                    "cloud_phone_number_id",
                    "cloud_business_account_id",
                    "cloud_access_token",
                    "cloud_app_secret",
                    "cloud_verify_token",
                ],
                "classes": ["collapse"],
            },
        ),
        (_("Warm-up and daily cap"), {"fields": ["sending_since", "warmed_up", "daily_cap", "cap_today"]}),
        (_("Sandbox"), {"fields": ["sandbox_config"], "classes": ["collapse"]}),
        (
            _("Connection and health"),
            {
                "fields": [
                    ("connection_state", "needs_qr_login"),
                    "connection_reason",
                    "health_score",
                    "last_connected_at",
                    "last_disconnected_at",
                    "connection_checked_at",
                ]
            },
        ),
        (
            _("Today"),
            {
                "fields": [
                    "counters_date",
                    # Two a row: five in one row overlapped their labels at 1400px.
                    ("sent_today", "delivered_today"),
                    ("read_today", "replies_today"),
                    ("failed_today", "disconnects_today"),
                ]
            },
        ),
    ]
    actions = ["check_connection", "send_test_message", "configure_webhook", "sync_message_templates"]
    change_form_template = "admin/instances/whatsappinstance/change_form.html"
    # A QR code expires within a minute; the connect page asks for a new one this often.
    qr_refresh_seconds = 20

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:instance_id>/connect/", view(self.connect_view), name="instances_whatsappinstance_connect"),
            path(
                "<int:instance_id>/connect/status/",
                view(self.connect_status),
                name="instances_whatsappinstance_connect_status",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        instance = self.get_object(request, object_id)
        if instance is not None:
            evolution = instance.provider == WhatsAppInstance.Provider.EVOLUTION
            can_connect = evolution and self.has_change_permission(request, instance)
            days = InstanceDay.objects.filter(instance=instance).order_by("-day")[:30]
            extra_context = {
                **(extra_context or {}),
                "health_days": [
                    {"day": d.day.strftime("%d/%m"), "health_score": d.health_score, "sent": d.sent, "failed": d.failed}
                    for d in reversed(list(days))
                ],
                "connect_url": reverse("admin:instances_whatsappinstance_connect", args=[instance.id])
                if can_connect
                else "",
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _changeable(self, request, instance_id):
        instance = get_object_or_404(self.get_queryset(request), pk=instance_id)
        if not self.has_change_permission(request, instance):
            raise PermissionDenied
        return instance

    def connect_view(self, request, instance_id):
        """Configure the webhook, show the QR code of `instance/connect` until the state is `open`."""
        instance = self._changeable(request, instance_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Connect %(name)s") % {"name": instance.name},
            "original": instance,  # the header's path: Instances › WhatsApp instances › the number
            "instance": instance,
            "status_url": reverse("admin:instances_whatsappinstance_connect_status", args=[instance.id]),
            "poll_seconds": settings.ADMIN_POLL_SECONDS,
            "opened_at": qr_codes.now_ms(),
        }
        try:
            answer = services.start_qr_login(instance=instance)
        except ProviderError as exc:
            context["error"] = str(exc)
        else:
            code = qr_codes.keep_polled(instance_id=instance.id, answer=answer, seconds=self.qr_refresh_seconds)
            state = answer.get("state") or instance.connection_state
            context.update(
                qr=code,
                state=state,
                state_label=WhatsAppInstance.ConnectionState(state).label
                if state in WhatsAppInstance.ConnectionState.values
                else state,
                webhook_url=services.webhook_url(instance),
            )
        return TemplateResponse(request, "admin/instances/connect.html", context)

    def connect_status(self, request, instance_id):
        """The connect page's JSON: the state, and the newest QR code (pushed by a `qrcode.updated`
        webhook or asked of `instance/connect`) when it is newer than the page's `since`.

        `opened` is when the page was opened: an `open` the webhook recorded since then is
        believed without asking the provider again.
        """
        instance = self._changeable(request, instance_id)
        try:
            since, opened = _milliseconds(request.GET, "since"), _milliseconds(request.GET, "opened")
        except ValueError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        open_ = WhatsAppInstance.ConnectionState.OPEN
        try:
            if opened and instance.connection_state == open_ and _ms(instance.last_connected_at) >= opened:
                state = open_
            else:
                state = services.check_connection(instance=instance)
            code = None
            if state == open_:
                qr_codes.forget(instance_id=instance.id)
            else:
                code = qr_codes.newest(
                    instance_id=instance.id,
                    refresh=lambda: services.refresh_qr(instance=instance),
                    refresh_seconds=self.qr_refresh_seconds,
                )
        except ProviderError as exc:
            return JsonResponse({"state": "", "state_label": str(exc), "qr": ""}, status=502)
        newer = code is not None and code.at > since
        return JsonResponse(
            {
                "state": state,
                "state_label": WhatsAppInstance.ConnectionState(state).label,
                "qr": code.qr if newer else "",
                "pairing_code": code.pairing_code if newer else "",
                "qr_at": code.at if code is not None else since,
            }
        )

    @admin.display(description=_("provider"), ordering="provider")
    def provider_badge(self, obj):
        return format_html(BADGE, PROVIDER_COLORS.get(obj.provider, "#555"), obj.get_provider_display())

    @admin.display(description=_("connection"), ordering="connection_state")
    def state_badge(self, obj):
        badge = format_html(BADGE, STATE_COLORS.get(obj.connection_state, "#555"), obj.get_connection_state_display())
        if obj.needs_qr_login:
            badge += format_html(" " + BADGE, QR_LOGIN_COLOR, _("Needs a new QR login"))
        return badge

    @admin.display(description=_("health"), ordering="health_score")
    def health_badge(self, obj):
        return format_html(BADGE, health_color(obj.health_score), obj.health_score)

    @admin.display(description=_("cap today"))
    def cap_today(self, obj):
        if not obj.pk:
            return ""
        status = connection.cap_today(obj) or {}
        if status.get("cap") is None:
            return _("no cap")
        return _("%(left)d of %(cap)d left") % {"left": status["left"], "cap": status["cap"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # After the admin's transaction commits: configure the webhook and learn the state.
        connection.queue_refresh(instance=obj)

    def get_fieldsets(self, request, obj=None):
        # The webhook URL embeds the secret: superusers and the organization's admins only.
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or (
            obj is not None and organization_roles(request).get(obj.organization_id) == Membership.Role.ADMIN
        ):
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "webhook_url"]})
            for name, options in fieldsets
        ]

    @admin.display(description=_("webhook URL"))
    def webhook_url(self, obj):
        return services.webhook_url(obj) if obj.pk else ""

    def _each(self, request, queryset, call, done_message, *, only=None, only_message=""):
        """`call` each number, saying how it went; with `only`, numbers of other providers are skipped, said."""
        if only is not None:
            for instance in queryset.exclude(provider=only):
                self.message_user(request, only_message % {"instance": instance}, messages.WARNING)
            queryset = queryset.filter(provider=only)
        for instance in queryset:
            try:
                detail = call(instance)
            except ProviderError as exc:
                self.message_user(request, f"{instance}: {exc}", messages.ERROR)
            else:
                self.message_user(request, done_message % {"instance": instance, "detail": detail}, messages.SUCCESS)

    @admin.action(description=_("Check connection"), permissions=["change"])
    def check_connection(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda instance: services.check_connection(instance=instance),
            _("%(instance)s: connection is %(detail)s."),
        )

    @admin.action(description=_("Configure webhook (Evolution)"), permissions=["change"])
    def configure_webhook(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda instance: services.configure_webhook(instance=instance),
            _("%(instance)s: webhook set to %(detail)s."),
            only=WhatsAppInstance.Provider.EVOLUTION,
            only_message=_("%(instance)s: only Evolution instances."),
        )

    @admin.action(description=_("Sync message templates (Cloud API)"), permissions=["change"])
    def sync_message_templates(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda instance: templates.sync_templates(instance=instance),
            _("%(instance)s: %(detail)s templates synced."),
            only=WhatsAppInstance.Provider.CLOUD,
            only_message=_("%(instance)s: only Cloud API numbers."),
        )

    @admin.action(description=_("Send test message"), permissions=["change"])
    def send_test_message(self, request, queryset):
        form = TestMessageForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._each(
                request,
                queryset,
                lambda instance: services.send_text(instance=instance, **form.cleaned_data).provider_message_id,
                _("%(instance)s: sent, provider id %(detail)s."),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send test message"),
            "opts": self.model._meta,
            "form": form,
            "instances": queryset,
            "action": "send_test_message",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/instances/send_test_message.html", context)
