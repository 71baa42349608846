from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = _("Flows")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from flows.models import FlowMessage, Subflow
        from flows.services import bump_flow_version

        for model in (Subflow, FlowMessage):
            post_save.connect(bump_flow_version, sender=model, dispatch_uid=f"flows.bump.save.{model.__name__}")
            post_delete.connect(bump_flow_version, sender=model, dispatch_uid=f"flows.bump.delete.{model.__name__}")
