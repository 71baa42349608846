import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from accounts.admin import TenantAdmin
from integrations.models import (
    EVENT_TYPES,
    ActionRun,
    DeliveryAttempt,
    Integration,
    WebhookDelivery,
    WebhookSubscription,
    validate_secrets,
)
from integrations.services import connections, webhooks


class IntegrationForm(forms.ModelForm):
    new_secrets = forms.CharField(
        label=_("secrets"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text=_(
            'A JSON object. Pontta: {"email": "…", "password": "…"}; Google: {"service_account": {…the key file…}}; '
            'HTTP: {"bearer_token": "…"}. Never shown again; leave blank to keep what is stored.'
        ),
    )

    class Meta:
        model = Integration
        fields = ["organization", "kind", "name", "settings", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.secret_hint:
            self.fields["new_secrets"].help_text = _("Stored: %(hint)s. Leave blank to keep it.") % {
                "hint": self.instance.secret_hint
            }

    def clean_new_secrets(self):
        raw = self.cleaned_data["new_secrets"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise ValidationError(_("Must be a JSON object.")) from None
        kind = self.cleaned_data.get("kind") or self.instance.kind
        try:
            return validate_secrets(kind, value, creating=not self.instance.pk)
        except ValidationError as exc:
            raise ValidationError(" ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("new_secrets") and cleaned.get("kind") != Integration.Kind.HTTP:
            self.add_error("new_secrets", _("Required."))
        return cleaned


@admin.register(Integration)
class IntegrationAdmin(TenantAdmin):
    form = IntegrationForm
    list_display = ["name", "kind", "is_active", "last_test_ok", "last_tested_at", "secret_hint"]
    list_filter = ["kind", "is_active", "last_test_ok"]
    search_fields = ["name"]
    readonly_fields = ["secret_hint", "last_tested_at", "last_test_ok", "last_test_message", "created_at", "updated_at"]
    actions = ["test_connection"]

    def save_model(self, request, obj, form, change):
        secrets = form.cleaned_data.get("new_secrets") or {}
        if secrets or not change:
            obj.set_secrets(secrets)
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Test connection"))
    def test_connection(self, request, queryset):
        for integration in queryset:
            ok, message = connections.check_integration(integration=integration)
            level = messages.SUCCESS if ok else messages.ERROR
            self.message_user(request, f"{integration.name}: {message}", level=level)


class WebhookSubscriptionForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("events"), choices=[(e, e) for e in EVENT_TYPES], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ["organization", "url", "description", "events", "is_active"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(TenantAdmin):
    form = WebhookSubscriptionForm
    list_display = ["url", "description", "is_active", "disabled_at", "secret_hint", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret_hint", "disabled_at", "disabled_reason", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            secret = obj.new_secret()
            messages.warning(
                request, _("Copy the signing secret now, it will not be shown again: %(secret)s") % {"secret": secret}
            )
        elif obj.is_active and "is_active" in form.changed_data:
            obj.disabled_at, obj.disabled_reason = None, ""
        super().save_model(request, obj, form, change)
        webhooks.forget_subscriptions()


class DeliveryAttemptInline(TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ["attempted_at", "status_code", "succeeded", "latency_ms", "error", "response_excerpt"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantAdmin):
    organization_field = "subscription__organization"
    list_display = ["id", "subscription", "event_type", "status", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["status"]
    list_select_related = ["subscription", "event"]
    readonly_fields = [
        "subscription",
        "event",
        "status",
        "attempts",
        "next_attempt_at",
        "give_up_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
    ]
    exclude = ["claimed_at"]
    inlines = [DeliveryAttemptInline]
    actions = ["replay"]
    show_full_result_count = False

    @admin.display(description=_("event"))
    def event_type(self, obj):
        return f"{obj.event.public_id} {obj.event.type}"

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Replay selected deliveries"))
    def replay(self, request, queryset):
        count = webhooks.replay_deliveries(delivery_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, _("%(count)d delivery(ies) queued again.") % {"count": count})


@admin.register(ActionRun)
class ActionRunAdmin(TenantAdmin):
    list_display = ["id", "action", "integration", "reference", "status", "attempts", "latency_ms", "created_at"]
    list_filter = ["status", "action"]
    search_fields = ["reference"]
    list_select_related = ["integration"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in ActionRun._meta.fields]

    def has_add_permission(self, request):
        return False
