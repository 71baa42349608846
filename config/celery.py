import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("whatsflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["config"])  # config.tasks: the nightly retention
app.autodiscover_tasks(["webhooks.cloud"])  # one provider's folder keeps its own tasks


def _ensure_filesystem_broker_folders() -> None:
    # kombu's filesystem transport expects its folders to exist.
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


if str(app.conf.broker_url).startswith("filesystem"):
    _ensure_filesystem_broker_folders()


# Logs (ids carried into tasks, one logging setup) and metrics (task failures, the
# multiprocess folder) hook into Celery's signals; imported here so every process has them.
from config import celery_signals  # noqa: E402

app.steps["consumer"].add(celery_signals.AnnounceConnection)
