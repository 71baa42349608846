"""Celery tasks of flows: ids in, the service does the work (correctness lives in the claims)."""

import logging

from celery import shared_task

from flows import inbound, received_files, sending, timers

logger = logging.getLogger(__name__)


@shared_task
def send_scheduled(send_id: int) -> str:
    return sending.send_scheduled(send_id=send_id)


@shared_task
def send_due_scheduled() -> int:
    """Beat: send due rows whose countdown task was lost or that were due too far ahead for one."""
    return sending.send_due()


@shared_task
def fire_due_timers() -> int:
    """Beat: no-reply timers that are due (rows in the database, so they survive restarts)."""
    return timers.fire_due_timers()


@shared_task
def process_burst(instance_id: int, contact_id: int) -> str:
    return inbound.process_when_quiet(instance_id=instance_id, contact_id=contact_id)


@shared_task
def process_stale_inbound() -> int:
    """Beat: inbound messages whose burst task never ran (lost enqueue, dead worker)."""
    return inbound.process_stale()


@shared_task
def store_received_file(received_file_id: int) -> None:
    received_files.store_received_file(received_file_id=received_file_id)
