"""Celery tasks of the Cloud API intake: ids in, call `webhooks.cloud.intake` (idempotent, so redelivery is safe)."""

from celery import shared_task

from webhooks.cloud import intake


@shared_task(acks_late=True, reject_on_worker_lost=True)
def apply_cloud_webhook_event(event_id: int) -> str:
    return intake.apply_event(event_id=event_id)


@shared_task
def retry_unapplied_cloud_events() -> dict:
    return intake.retry_unapplied()
