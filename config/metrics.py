"""Prometheus metrics: what the processes count, and `GET /metrics`.

Counters and histograms are written by every process (web workers, Celery worker
processes) into files under `PROMETHEUS_MULTIPROC_DIR` (prometheus-client's multiprocess
mode, `config.metrics_files`); `/metrics` merges this machine's files. Gauges about the
database (due recipients, live executions, instances) are read at scrape time by the
functions the apps register (`register_collector`), each an indexed or LIMIT-bounded query, never a
count over a whole table. docs/operations.md "Metrics" lists every metric.

`/metrics` answers only a caller with `Authorization: Bearer <METRICS_TOKEN>` or from an
address in `METRICS_ALLOWED_NETWORKS`; with neither set it answers 403 to everyone.
"""

import hmac
import ipaddress
import logging
from functools import lru_cache

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LAG_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

SENDS = Counter("whatsflow_sends", "Messages handed to a provider, by provider and outcome.", ["provider", "outcome"])
PROVIDER_CALL_SECONDS = Histogram(
    "whatsflow_provider_call_seconds",
    "Duration of one call to a provider (instances.services), by provider, operation and outcome.",
    ["provider", "operation", "outcome"],
    buckets=LATENCY_BUCKETS,
)
SCHEDULE_RUNS = Counter("whatsflow_schedule_runs", "Schedule occurrences the ticker handled, by outcome.", ["status"])
WEBHOOKS_RECEIVED = Counter(
    "whatsflow_webhooks_received", "Webhook requests answered, by provider and answer.", ["provider", "answer"]
)
WEBHOOK_INTAKE_SECONDS = Histogram(
    "whatsflow_webhook_intake_seconds",
    "Time a webhook request took from the view's start to its answer (parse, authenticate, store).",
    ["provider"],
    buckets=LATENCY_BUCKETS,
)
WEBHOOK_LAG_SECONDS = Histogram(
    "whatsflow_webhook_lag_seconds",
    "Received time minus the provider's timestamp of the event (0 when the provider's clock is ahead).",
    ["provider"],
    buckets=LAG_BUCKETS,
)
WEBHOOK_EVENTS = Counter(
    "whatsflow_webhook_events", "Stored webhook events applied, by event type and result.", ["event", "result"]
)
WEBHOOK_DRAIN_SECONDS = Histogram(
    "whatsflow_webhook_drain_seconds",
    "Time from storing a webhook event to applying it (the drainer's latency), by event type.",
    ["event"],
    buckets=LAG_BUCKETS,
)
EXECUTIONS_ENDED = Counter("whatsflow_executions_ended", "Executions that reached an end state, by status.", ["status"])
CELERY_TASK_FAILURES = Counter("whatsflow_celery_task_failures", "Celery tasks that raised, by task.", ["task"])


def observe_lag(*, provider: str, received_at, provider_time) -> None:
    if provider_time is not None and received_at is not None:
        WEBHOOK_LAG_SECONDS.labels(provider).observe(max(0.0, (received_at - provider_time).total_seconds()))


# SCRAPE
# ------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _networks(spec: tuple[str, ...]):
    return [ipaddress.ip_network(value.strip(), strict=False) for value in spec if value.strip()]


def allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
            return True
    networks = _networks(tuple(settings.METRICS_ALLOWED_NETWORKS))
    if networks:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return any(address in network for network in networks)
    return False


# The apps' scrape-time gauges, each `collect() -> metric families`, registered in their
# `AppConfig.ready()` (config imports no app).
COLLECTORS = []


def register_collector(collect) -> None:
    if collect not in COLLECTORS:
        COLLECTORS.append(collect)


class DatabaseCollector:
    """The gauges read from the database at scrape time (`COLLECTORS`)."""

    def collect(self):
        for collect in COLLECTORS:
            try:
                yield from collect()
            except Exception:
                logger.exception("metrics collector %s.%s failed", collect.__module__, collect.__qualname__)

    def describe(self):
        return []


def registry() -> CollectorRegistry:
    scraped = CollectorRegistry()
    multiprocess.MultiProcessCollector(scraped)
    scraped.register(DatabaseCollector())
    return scraped


@require_GET
def metrics_view(request):
    if not allowed(request):
        return HttpResponse(
            "Forbidden: send Authorization: Bearer <METRICS_TOKEN>, or scrape from METRICS_ALLOWED_NETWORKS.\n",
            status=403,
            content_type="text/plain",
        )
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
