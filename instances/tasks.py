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
