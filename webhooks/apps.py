from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        from instances.signals import sandbox_event_played

        sandbox_event_played.connect(_on_sandbox_event_played, dispatch_uid="webhooks.sandbox_event_played")


def _on_sandbox_event_played(sender, payload, **kwargs):
    from webhooks.evolution.intake import accept_sandbox_payload

    accept_sandbox_payload(payload)
