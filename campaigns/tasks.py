"""Celery tasks: thin interfaces over `campaigns.sending.dispatch`.

Both tasks are idempotent (correctness lives in the database claim), so they may use
`acks_late` + `reject_on_worker_lost`: a task whose worker died is delivered again and
simply claims what is still due.
"""

import logging

from celery import shared_task
from django.conf import settings

from campaigns import stats
from campaigns.sending import dispatch, reconcile
from config.metrics import SCHEDULE_RUNS
from core.outages import through_outages

logger = logging.getLogger(__name__)


def queue_dispatch(execution_id: int, *, fan_out: bool = False, countdown: float = 0) -> None:
    copies = settings.CAMPAIGNS_DISPATCH_FAN_OUT if fan_out else 1
    for _ in range(copies):
        dispatch_execution.apply_async(args=[execution_id], countdown=countdown or None)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def dispatch_execution(execution_id: int) -> str:
    # A dropped database or Redis connection (a restart) is waited out here, in short steps:
    # the task, and the chain of successors it queues, outlive the outage.
    patience = settings.CAMPAIGNS_OUTAGE_PATIENCE_SECONDS
    outcome = through_outages(lambda: dispatch.run(execution_id), patience=patience)
    if outcome == "more":
        through_outages(lambda: queue_dispatch(execution_id), patience=patience)
    elif outcome.startswith("later:"):
        # Short waits ride a countdown; longer ones (beyond the broker's visibility
        # timeout a countdown would be delivered twice) are left to the sweep.
        wait = max(0.0, float(outcome.split(":", 1)[1]))
        if wait <= settings.CAMPAIGNS_MAX_COUNTDOWN_SECONDS:
            through_outages(lambda: queue_dispatch(execution_id, countdown=wait + 0.05), patience=patience)
    logger.debug("dispatch execution=%s -> %s", execution_id, outcome)
    return outcome


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sweep() -> dict:
    return dispatch.sweep()


@shared_task(ignore_result=True)
def resume_dispatch() -> dict:
    """A worker (re)connected to the broker: queue every live execution no dispatcher is beating for.

    Tasks queued in a broker that restarted empty are gone; this brings their executions back at once
    instead of at the next stale-heartbeat sweep.
    """
    return dispatch.sweep(stale_seconds=dispatch.RESUME_STALE_SECONDS)


@shared_task(ignore_result=True)
def reconcile_unknown() -> dict:
    return dict(reconcile.reconcile_unknown())


@shared_task(ignore_result=True)
def refresh_campaign_totals() -> int:
    """Campaign totals follow the statuses webhooks report after an execution ended."""
    return stats.refresh_recent_campaign_totals(days=settings.CAMPAIGNS_TOTALS_REFRESH_DAYS)


@shared_task(ignore_result=True)
def run_due_schedules(fan_out: bool = True) -> dict:
    """The schedules' ticker (beat, every 30 s). Exactly once lives in `ScheduleRun`'s unique row,
    so copies running at once (two beats, a slow tick overlapping the next) are harmless."""
    from campaigns.schedules import ticker

    if fan_out and ticker.has_more_due():
        # Many schedules due at once: let the other workers share them (SKIP LOCKED).
        for _ in range(settings.SCHEDULES_TICKER_FAN_OUT - 1):
            run_due_schedules.delay(fan_out=False)
    counts = ticker.tick(
        batch_size=settings.SCHEDULES_TICKER_BATCH_SIZE, budget_seconds=settings.SCHEDULES_TICKER_BUDGET_SECONDS
    )
    for status in ("started", "skipped", "missed", "buffered"):
        SCHEDULE_RUNS.labels(status).inc(counts.get(status, 0))
    if ticker.has_more_due():
        run_due_schedules.delay(fan_out=False)  # out of budget with work left: don't wait for the next beat
    return counts
