"""Campaign gauges read at scrape time (`METRICS_COLLECTORS`): bounded, indexed queries only.

- `whatsflow_due_recipients`: pending recipients of running executions whose attempt is due
  (the dispatchers' queue depth), counted up to METRICS_DUE_RECIPIENTS_CAP through the
  `campaigns_recipient_due` partial index (`SELECT count(*) FROM (… LIMIT cap)`).
- `whatsflow_executions{status}`: executions queued, running and paused (the
  `campaigns_execution_live` partial index); ended ones are the counter
  `whatsflow_executions_ended_total{status}` (`campaigns.models.Execution.transition`).

Schedule runs by status belong here too once schedules exist (a function added to
METRICS_COLLECTORS that reads its own indexed table).
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


def live_executions() -> dict[str, int]:
    counts = dict.fromkeys(LIVE, 0)
    rows = Execution.objects.filter(status__in=LIVE).values("status").annotate(n=Count("id")).order_by()
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def collect():
    due = GaugeMetricFamily(
        "whatsflow_due_recipients",
        "Pending recipients of running executions whose send is due (capped at METRICS_DUE_RECIPIENTS_CAP).",
    )
    due.add_metric([], due_recipients())
    yield due
    executions = GaugeMetricFamily("whatsflow_executions", "Executions not ended yet, by status.", labels=["status"])
    for status, count in live_executions().items():
        executions.add_metric([status], count)
    yield executions
