"""Operations: the metrics endpoint and the nightly retention (docs/operations.md)."""

from config import metrics_files
from config.settings.env import env

# OPERATIONS: METRICS, CORS, RETENTION (docs/operations.md)
# ------------------------------------------------------------------------------
# prometheus-client's multiprocess folder, shared by this machine's processes; it must be in
# the environment before prometheus-client is imported (config/metrics_files.py).


PROMETHEUS_MULTIPROC_DIR = metrics_files.folder()
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
# GET /metrics answers `Authorization: Bearer <METRICS_TOKEN>`, or callers whose address is in
# one of these networks (e.g. 10.0.0.0/8,127.0.0.1/32); with neither, nobody (403).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
# Due recipients are counted up to this many (a LIMIT-bounded count); the gauge reads "at least".
METRICS_DUE_RECIPIENTS_CAP = env.int("METRICS_DUE_RECIPIENTS_CAP", default=100_000)

# Rows older than this many days are deleted by the nightly `ops: retention` job
# (`manage.py apply_retention`), in batches of RETENTION_BATCH_SIZE ids; 0 keeps them forever.
RETENTION_DAYS = {
    "webhook_events": env.int("RETENTION_WEBHOOK_EVENTS_DAYS", default=30),
    "message_history": env.int("RETENTION_MESSAGE_HISTORY_DAYS", default=180),
    "sandbox_messages": env.int("RETENTION_SANDBOX_MESSAGES_DAYS", default=7),
    "send_slots": env.int("RETENTION_SEND_SLOTS_DAYS", default=2),
    "campaign_logs": env.int("RETENTION_CAMPAIGN_LOGS_DAYS", default=90),
    "activity_logs": env.int("RETENTION_ACTIVITY_LOGS_DAYS", default=30),
}
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=1000)
