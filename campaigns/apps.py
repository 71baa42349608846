from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self):
        from accounts.demo import register_seeder
        from campaigns import demo, metrics
        from campaigns.limits import cap_status
        from config.celery_signals import broker_connected
        from config.metrics import register_collector
        from flows.signals import conversation_completed
        from instances.connection import provide_cap_status
        from instances.signals import connection_changed

        register_seeder(demo.seed)
        register_collector(metrics.collect)
        provide_cap_status(cap_status)

        connection_changed.connect(_on_connection_changed, dispatch_uid="campaigns.connection_changed")
        conversation_completed.connect(_on_conversation_completed, dispatch_uid="campaigns.conversation_completed")
        broker_connected.connect(_on_broker_connected, dispatch_uid="campaigns.broker_connected", weak=False)


def _on_connection_changed(sender, instance, old_state, new_state, reason="", **kwargs):
    from campaigns.services.controls import instance_connection_changed

    instance_connection_changed(instance=instance, new_state=new_state, reason=reason)


def _on_conversation_completed(sender, conversation, **kwargs):
    from campaigns.services.controls import conversation_completed

    conversation_completed(conversation=conversation)


def _on_broker_connected(sender, consumer=None, **kwargs):
    # By name: this floor does not import the tasks. Executions quiet since before are queued again.
    consumer.app.send_task("campaigns.tasks.resume_dispatch")
