from celery import shared_task

from instances import services
from instances.providers import sandbox


@shared_task
def flush_instance_counters() -> int:
    return services.flush_counters()


@shared_task
def reset_daily_counters() -> int:
    return services.reset_daily_counters()


@shared_task
def play_sandbox_event(message_id: int, event: str) -> None:
    sandbox.play_event(message_id=message_id, event=event)


@shared_task
def refresh_instance_connection(instance_id: int, configure: bool = True) -> str:
    from instances.connection import refresh_connection
    from instances.models import WhatsAppInstance

    instance = WhatsAppInstance.objects.filter(id=instance_id).first()
    if instance is None:
        return "gone"
    return refresh_connection(instance=instance, configure=configure)


@shared_task
def refresh_stale_connections() -> int:
    from instances.connection import refresh_stale

    return refresh_stale()


@shared_task
def sync_message_templates() -> dict:
    from instances.templates import sync_all

    return sync_all()
