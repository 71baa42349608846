"""Campaign gauges read at scrape time (registered in `CampaignsConfig.ready()`): bounded, indexed queries only.

- `whatsflow_due_recipients`: pending recipients of running executions whose attempt is due
  (the dispatchers' queue depth), counted up to METRICS_DUE_RECIPIENTS_CAP through the
  `campaigns_recipient_due` partial index (`SELECT count(*) FROM (… LIMIT cap)`).
- `whatsflow_executions{status}`: executions queued, running and paused (the
  `campaigns_execution_live` partial index); ended ones are the counter
  `whatsflow_executions_ended_total{status}` (`campaigns.models.Execution.transition`).

Schedule runs by status belong here too once schedules exist: a function added to
METRICS_COLLECTORS, e.g. `yield status_gauge(ScheduleRun.objects.filter(created_at__gte=…),
"whatsflow_schedule_runs", "…", ScheduleRun.Status.values)` over a recent, indexed slice.
"""

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from campaigns.models import Execution, Recipient

LIVE = [Execution.Status.QUEUED, Execution.Status.RUNNING, Execution.Status.PAUSED]


def due_recipients(*, cap: int | None = None) -> int:
    cap = settings.METRICS_DUE_RECIPIENTS_CAP if cap is None else cap
    due = Recipient.objects.filter(status=Recipient.Status.PENDING, execution__status=Execution.Status.RUNNING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now())
    )
    return due.values("id")[:cap].count()


def status_gauge(rows, name: str, documentation: str, statuses) -> GaugeMetricFamily:
    """A gauge of `rows` counted by status (one grouped query: give it an indexed, bounded queryset)."""
    counts = dict.fromkeys(statuses, 0)
    counts.update({row["status"]: row["n"] for row in rows.values("status").annotate(n=Count("id")).order_by()})
    gauge = GaugeMetricFamily(name, documentation, labels=["status"])
    for status, count in counts.items():
        gauge.add_metric([status], count)
    return gauge


def collect():
    due = GaugeMetricFamily(
        "whatsflow_due_recipients",
        "Pending recipients of running executions whose send is due (capped at METRICS_DUE_RECIPIENTS_CAP).",
    )
    due.add_metric([], due_recipients())
    yield due
    live = Execution.objects.filter(status__in=LIVE)
    yield status_gauge(live, "whatsflow_executions", "Executions not ended yet, by status.", LIVE)
