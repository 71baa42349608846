from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = _("Flows")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from accounts.demo import register_seeder
        from config.health import register_part
        from flows import demo
        from flows.actions import on_action_finished
        from flows.health import bot_controls
        from flows.models import FlowMessage, Subflow
        from flows.services import bump_flow_version
        from integrations.signals import action_finished

        register_seeder(demo.seed)
        register_part(bot_controls)
        # Integrations calls no one above it: it announces a finished run, flows picks it up.
        action_finished.connect(on_action_finished, dispatch_uid="flows.action_finished")

        for model in (Subflow, FlowMessage):
            post_save.connect(bump_flow_version, sender=model, dispatch_uid=f"flows.bump.save.{model.__name__}")
            post_delete.connect(bump_flow_version, sender=model, dispatch_uid=f"flows.bump.delete.{model.__name__}")
