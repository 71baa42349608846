"""Celery tasks of integrations: ids in, the services do the work (correctness lives in the claims)."""

from celery import shared_task

from integrations.services import actions, webhooks


@shared_task
def drain_webhooks() -> int:
    return webhooks.drain()


@shared_task
def run_action(run_id: int) -> str:
    return actions.run_action(run_id=run_id)


@shared_task
def run_due_actions() -> int:
    return actions.run_due()
