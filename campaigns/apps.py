from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self):
        from accounts.demo import register_seeder
        from campaigns import demo, metrics
        from campaigns.limits import cap_status
        from config.metrics import register_collector
        from flows.signals import conversation_completed
        from instances.connection import provide_cap_status
        from instances.signals import connection_changed

        register_seeder(demo.seed)
        register_collector(metrics.collect)
        provide_cap_status(cap_status)

        connection_changed.connect(_on_connection_changed, dispatch_uid="campaigns.connection_changed")
        conversation_completed.connect(_on_conversation_completed, dispatch_uid="campaigns.conversation_completed")


def _on_connection_changed(sender, instance, old_state, new_state, reason="", **kwargs):
    from campaigns.services.controls import instance_connection_changed

    instance_connection_changed(instance=instance, new_state=new_state, reason=reason)


def _on_conversation_completed(sender, conversation, **kwargs):
    from campaigns.services.controls import conversation_completed

    conversation_completed(conversation=conversation)
