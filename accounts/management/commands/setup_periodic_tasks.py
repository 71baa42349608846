import json

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask, PeriodicTasks


class Command(BaseCommand):
    help = (
        "Install the system's periodic tasks (settings.SYSTEM_PERIODIC_TASKS) into "
        "django-celery-beat's tables. Idempotent; user schedules are left alone."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        for name, spec in settings.SYSTEM_PERIODIC_TASKS.items():
            defaults = {"task": spec["task"], "kwargs": json.dumps(spec.get("kwargs", {})), "enabled": True}
            if "every_seconds" in spec:
                interval, _ = IntervalSchedule.objects.get_or_create(
                    every=spec["every_seconds"], period=IntervalSchedule.SECONDS
                )
                defaults.update(interval=interval, crontab=None)
            else:
                minute, hour, day_of_month, month, day_of_week = spec["crontab"].split()
                crontab, _ = CrontabSchedule.objects.get_or_create(
                    minute=minute,
                    hour=hour,
                    day_of_month=day_of_month,
                    month_of_year=month,
                    day_of_week=day_of_week,
                    timezone=settings.TIME_ZONE,
                )
                defaults.update(crontab=crontab, interval=None)
            PeriodicTask.objects.update_or_create(name=name, defaults=defaults)
            self.stdout.write(f"Periodic task '{name}' installed.")
        PeriodicTasks.update_changed()
