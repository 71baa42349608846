"""Celery signal receivers of the logs and metrics (connected when `config.celery` loads)."""

import os

from celery import signals

from config import logs, metrics_files  # noqa: F401  (logs connects its own receivers)


@signals.worker_init.connect
def _prepare_metrics_folder(**kwargs):
    metrics_files.prepare()


@signals.worker_process_shutdown.connect
def _forget_process(**kwargs):
    metrics_files.mark_dead(os.getpid())


@signals.task_failure.connect
def _count_failure(sender=None, **kwargs):
    from config.metrics import CELERY_TASK_FAILURES

    CELERY_TASK_FAILURES.labels(getattr(sender, "name", str(sender))).inc()
