from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from unfold.widgets import (
    UnfoldAdminPasswordWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
    UnfoldAdminURLInputWidget,
)

from instances.api import CLOUD_REQUIRED, CLOUD_SECRET_FIELDS, SECRET_FIELDS, TestMessageSerializer, mask
from instances.models import WhatsAppInstance


def secret_field(label, help_text="") -> forms.CharField:
    """A key typed, never shown again (the form renders no value; blank keeps the stored one)."""
    return forms.CharField(
        label=capfirst(label),
        required=False,
        widget=UnfoldAdminPasswordWidget(render_value=False),
        strip=True,
        help_text=help_text,
    )


class WhatsAppInstanceForm(forms.ModelForm):
    """Keys are write-only: the form never renders them, and a blank field keeps the stored key."""

    base_url = forms.URLField(
        label=capfirst(_("base URL")),
        required=False,
        assume_scheme="https",
        help_text=_("e.g. https://evolution.example.com"),
        # The theme's widgets: Django's plain inputs have no border in it (these fields looked absent).
        widget=UnfoldAdminURLInputWidget,
    )
    api_key = secret_field(_("API key"))
    integration_key = secret_field(_("integration key"))
    cloud_access_token = secret_field(
        _("access token"), _("Cloud API: the system user's permanent token (Meta Business Settings)")
    )
    cloud_app_secret = secret_field(_("app secret"), _("Cloud API: the Meta app's secret; it signs the webhooks"))
    cloud_verify_token = secret_field(
        _("webhook verify token"), _("Cloud API: any text you also type in the Meta app's webhook settings")
    )

    class Meta:
        model = WhatsAppInstance
        fields = [
            "organization",
            "name",
            "provider",
            "phone_number",
            "status",
            "base_url",
            "instance_name",
            "api_version",
            "api_key",
            "integration_key",
            "cloud_phone_number_id",
            "cloud_business_account_id",
            "configure_webhook_on_save",
            "supports_polls",
            "sending_since",
            "warmed_up",
            "daily_cap",
            "sandbox_config",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SECRET_FIELDS:
            stored = getattr(self.instance, name, "")
            if stored and name in self.fields:
                self.fields[name].help_text = _("Stored: %(hint)s. Leave blank to keep it.") % {"hint": mask(stored)}
        stored = self.instance.cloud_secrets() if self.instance.cloud_secrets_encrypted else {}
        for field, name in CLOUD_SECRET_FIELDS.items():
            if stored.get(name):
                self.fields[field].help_text = _("Stored. Leave blank to keep it.")

    def clean(self):
        cleaned = super().clean()
        for name in SECRET_FIELDS:
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        if cleaned.get("provider") == WhatsAppInstance.Provider.CLOUD:
            stored = self.instance.cloud_secrets() if self.instance.cloud_secrets_encrypted else {}
            for field in CLOUD_REQUIRED:
                if not cleaned.get(field) and not stored.get(CLOUD_SECRET_FIELDS[field]):
                    self.add_error(field, _("Required for Cloud API instances."))
        return cleaned

    def _post_clean(self):
        # Restore kept keys on the instance before the model's clean() checks them.
        for name in SECRET_FIELDS:
            if name in self.cleaned_data:
                setattr(self.instance, name, self.cleaned_data[name])
        super()._post_clean()
        secrets = {name: self.cleaned_data.get(field, "") for field, name in CLOUD_SECRET_FIELDS.items()}
        if any(secrets.values()):
            self.instance.set_cloud_secrets(**secrets)


class TestMessageForm(forms.Form):
    phone = forms.CharField(
        label=capfirst(_("phone")),
        max_length=32,
        help_text=_("e.g. +5511999999999"),
        widget=UnfoldAdminTextInputWidget,
    )
    text = forms.CharField(
        label=capfirst(_("text")), widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}), initial=_("Test message")
    )

    def clean_phone(self):
        try:
            return TestMessageSerializer().validate_phone(self.cleaned_data["phone"])
        except serializers.ValidationError as exc:
            raise forms.ValidationError(exc.detail) from None
