from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstancesConfig(AppConfig):
    name = "instances"
    verbose_name = _("Instances")

    def ready(self):
        from accounts.demo import register_seeder
        from config.metrics import register_collector
        from instances import demo, metrics

        register_seeder(demo.seed)
        register_collector(metrics.collect)
