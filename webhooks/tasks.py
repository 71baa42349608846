"""Celery tasks: ids in, call `webhooks.evolution.queue`.

Applying an event is idempotent (the row is locked and its status checked), so these
may be delivered twice: the second delivery finds the event applied and does nothing.
"""

import logging

from celery import shared_task

from webhooks.evolution import queue

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def apply_webhook_event(event_id: int) -> str:
    return queue.apply_event(event_id=event_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def drain_webhook_events() -> int:
    return queue.drain()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def settle_connection_events(instance_id: int) -> str:
    return queue.settle_connection(instance_id=instance_id)


@shared_task
def retry_unapplied_webhook_events() -> dict:
    return queue.retry_unapplied()


@shared_task
def send_opt_out_confirmation(instance_id: int, phone: str, text: str) -> None:
    from instances.models import WhatsAppInstance
    from instances.providers.base import ProviderError
    from instances.services import send_text

    instance = WhatsAppInstance.objects.filter(id=instance_id).first()
    if instance is None:
        logger.info("send_opt_out_confirmation: instance %s no longer exists; skipping", instance_id)
        return
    try:
        send_text(instance=instance, phone=phone, text=text)
    except ProviderError as exc:
        # A courtesy message: never retried, so a doubtful send cannot become two.
        logger.warning("opt-out confirmation to %s through instance %s not sent: %s", phone, instance_id, exc)
