"""Celery tasks of the deployment itself (not of one app): the nightly retention."""

from celery import shared_task

from config import retention


@shared_task(ignore_result=True)
def apply_retention() -> dict[str, int]:
    return retention.apply_retention()
