"""Celery signal receivers of the logs and metrics (connected when `config.celery` loads), and
`broker_connected`, sent each time a worker's consumer (re)connects to the broker."""

import os

from celery import bootsteps, signals
from celery.utils.dispatch import Signal

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


# Sent in the worker's main process when it starts consuming, at start and after every
# reconnection: tasks queued before a broker restart may be gone, and apps re-queue their work.
broker_connected = Signal(name="broker_connected", providing_args={"consumer"})


class AnnounceConnection(bootsteps.StartStopStep):
    """A consumer step: starts once the task consumer is up, again on every reconnection."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, consumer):
        broker_connected.send(sender=self, consumer=consumer)
