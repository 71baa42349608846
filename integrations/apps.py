from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from integrations import checks  # noqa: F401 (registers the deploy check)
        from integrations.models import WebhookSubscription
        from integrations.services.webhooks import subscription_changed

        # A subscription saved or deleted anywhere (API, admin, shell) drops its cached entry.
        post_save.connect(subscription_changed, sender=WebhookSubscription, dispatch_uid="subscription-saved")
        post_delete.connect(subscription_changed, sender=WebhookSubscription, dispatch_uid="subscription-deleted")
