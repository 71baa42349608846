"""The status funnel end to end: a campaign sent, its statuses posted back by the provider and applied.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wf_funnel_bench REDIS_URL=redis://127.0.0.1:6379/6 \
        .venv/bin/python bench/funnel.py [-n 5000] [--workers 2] [--duplicates 0.2]

Starts, as production runs them: gunicorn (config/gunicorn.py, the default queued intake),
`--workers` Celery worker processes, one beat (the retry of unapplied events), and the fake
provider in its own process (tests/support/fakes/provider_server.py) with its status
reporter: after each send it posts real-format Evolution v2 `messages.update` webhooks to
the instance's URL, SERVER_ACK, DELIVERY_ACK and READ after growing random delays
(tests/support/fakes/status_reporter.py), and `--duplicates` of them a second time with the
same bytes. Then sends a campaign of N recipients with no rate limit and prints:
- dispatch msg/s (start to the execution completed);
- statuses posted/s and applied/s while dispatch ran (the steady part: from the first READ
  due to the end of dispatch), and their ratio to dispatch (target >= 3x: three statuses a send);
- the status lag, p50/p99 from a status's post (its `date_time`) to its event applied (the
  recipient showing it, in the same transaction), for statuses posted during dispatch and
  after it; events deferred because their send was not recorded yet are counted apart.
The run's organization, events and Redis keys are deleted at the end.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PREFIX = f"bench-funnel-{uuid.uuid4().hex[:8]}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex)
os.environ["REDIS_KEY_PREFIX"] = PREFIX
os.environ.setdefault("PROVIDER_ALLOW_PRIVATE_NETWORKS", "1")  # the fake provider is on 127.0.0.1


def percentile(values, p):
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")


def processes_env() -> dict:
    return {**os.environ, "DEBUG": "0", "LOG_LEVEL": "WARNING", "WEB_ACCESS_LOG": "", "ALLOWED_HOSTS": "127.0.0.1"}


def start_web(port: int) -> subprocess.Popen:
    command = [str(ROOT / ".venv/bin/gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    return subprocess.Popen(command, cwd=ROOT, env=processes_env())


def start_beat() -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING"]
    command += ["--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]
    return subprocess.Popen(command, cwd=ROOT, env=processes_env(), stdout=subprocess.DEVNULL)


def wait_until_up(url: str, timeout: float = 120) -> None:
    """Gunicorn binds before its workers have loaded Django: posts meanwhile would hang in the backlog."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # answered: up, whatever it says
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f}s")


def reporter_state(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/__reporter", timeout=5) as answer:
        return json.loads(answer.read())


def lags(instance_id: int, since, until) -> tuple[list[float], int]:
    """Seconds from post to applied of the applied status events posted in [since, until); and how many deferred."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXTRACT(EPOCH FROM applied_at - provider_time), attempts > 1 FROM webhooks_webhookevent "
            "WHERE instance_id = %s AND event = 'messages.update' AND applied_at IS NOT NULL "
            "AND provider_time >= %s AND provider_time < %s",
            [instance_id, since, until],
        )
        rows = cursor.fetchall()
    return sorted(float(lag) for lag, _ in rows), sum(1 for _, retried in rows if retried)


def peak_rate(instance_id: int, since, window: float = 2.0) -> float:
    """The most events applied in any `window` seconds after `since`, per second: what the appliers can do."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM webhooks_webhookevent "
            "WHERE instance_id = %s AND event = 'messages.update' AND applied_at >= %s "
            "GROUP BY floor(EXTRACT(EPOCH FROM applied_at) / %s)) buckets",
            [instance_id, since, window],
        )
        return cursor.fetchone()[0] / window


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=5000, help="recipients of the campaign")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--duplicates", type=float, default=0.2, help="share of statuses posted twice")
    parser.add_argument("--settle", type=float, default=180, help="seconds to wait for the last statuses")
    parser.add_argument("--web-port", type=int, default=18780)
    parser.add_argument("--provider-port", type=int, default=18781)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")

    import django

    django.setup()
    from datetime import UTC, datetime

    from django.core.management import call_command

    from bench.dispatch import drop_organization, make_contacts, organization
    from campaigns.models import CampaignLog, Execution
    from campaigns.services import starting
    from core.redis import get_redis
    from tests.factories.campaigns import CampaignFactory, make_evolution_instance
    from tests.support.workers import Workers
    from webhooks.models import WebhookEvent

    call_command("migrate", verbosity=0)
    call_command("setup_periodic_tasks", verbosity=0)
    org = organization("bench-funnel")
    make_contacts(org, args.n)
    provider_url = f"http://127.0.0.1:{args.provider_port}"
    instance = make_evolution_instance(org, provider_url, name=f"funnel-{os.getpid()}")
    campaign = CampaignFactory(organization=org, instances=[instance], max_concurrent_executions=5)
    hook_url = f"http://127.0.0.1:{args.web_port}/api/webhooks/evolution/{instance.webhook_secret}/"
    provider = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fakes.provider_server", "--port", str(args.provider_port)]
        + ["--no-record", "--report-statuses", hook_url, "--duplicates", str(args.duplicates)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    web, beat = start_web(args.web_port), start_beat()
    workers = Workers(args.workers, env={"LOG_LEVEL": "ERROR", "CONN_MAX_AGE": "60"}).start()
    events = WebhookEvent.objects.filter(instance=instance, event="messages.update")
    try:
        wait_until_up(f"http://127.0.0.1:{args.web_port}/health")
        wait_until_up(f"{provider_url}/__count")
        time.sleep(4)  # the workers' start-up is not part of the rates either
        started = time.time()
        execution = starting.start_campaign(campaign=campaign)
        while Execution.objects.filter(id=execution.id).values_list("status", flat=True).get() != "completed":
            time.sleep(0.2)
        dispatched = time.time()
        backlog_at_end = events.exclude(status=WebhookEvent.Status.APPLIED).count()
        posted_at_end = reporter_state(provider_url)["posted"]
        deadline = dispatched + args.settle
        while time.time() < deadline:
            state = reporter_state(provider_url)
            if not state["due"] and not events.exclude(status=WebhookEvent.Status.APPLIED).exists():
                break
            time.sleep(0.5)
        finished = time.time()
        state = reporter_state(provider_url)
    finally:
        workers.stop()
        for process in (web, beat, provider):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)

    at = lambda t: datetime.fromtimestamp(t, UTC)  # noqa: E731
    sent = execution.recipients.filter(status__in=["sent", "delivered", "read"]).count()
    dispatch_seconds = dispatched - started
    steady_from = started + 8.0  # the first READs are due about 8 s after the first sends
    steady = max(dispatched - steady_from, 1e-9)
    applied_steady = events.filter(applied_at__gte=at(steady_from), applied_at__lt=at(dispatched)).count()
    posted_steady = events.filter(received_at__gte=at(steady_from), received_at__lt=at(dispatched)).count()
    during, deferred_during = lags(instance.id, at(started), at(dispatched))
    after, deferred_after = lags(instance.id, at(dispatched), at(finished + 1))
    unapplied = Counter(events.exclude(status=WebhookEvent.Status.APPLIED).values_list("result", flat=True))
    results = Counter(events.values_list("result", flat=True))
    final = Counter(execution.recipients.values_list("status", flat=True))
    stored = events.count()

    print(f"{args.n:,} recipients, {args.workers} worker process(es), duplicates {args.duplicates:.0%}")
    print(f"dispatch:            {sent / dispatch_seconds:8.0f} msg/s ({sent:,} sent in {dispatch_seconds:.1f}s)")
    if dispatch_seconds > 10:
        rate = sent / dispatch_seconds
        print(
            f"statuses (steady {steady:.0f}s of dispatch): posted {posted_steady / steady:6.0f}/s, "
            f"applied {applied_steady / steady:6.0f}/s = x{applied_steady / steady / rate:.2f} dispatch (target >= 3x)"
        )
    else:
        print("statuses: dispatch too short for a steady part (raise -n)")
    print(f"backlog when dispatch ended: {backlog_at_end:,} events unapplied; posts so far {posted_at_end:,}")
    print(f"applied at most {peak_rate(instance.id, at(dispatched)):.0f}/s (2 s windows) once dispatch had ended")
    for name, values, deferred in (
        ("during dispatch", during, deferred_during),
        ("after dispatch", after, deferred_after),
    ):
        print(
            f"status lag {name:<16} p50 {percentile(values, 50) * 1000:7.0f} ms  "
            f"p99 {percentile(values, 99) * 1000:7.0f} ms  max {percentile(values, 100):6.1f} s  "
            f"({len(values):,} statuses; {deferred:,} deferred and retried)"
            + ("  (target p99 < 5 s)" if name == "during dispatch" else "")
        )
    print(
        f"posts {state['posted']:,} (errors {state['errors']}), events stored {stored:,} "
        f"(duplicates dropped at intake: {state['posted'] - stored:,}); results {dict(results)}"
    )
    print(f"recipients at the end: {dict(final)}; left unapplied: {dict(unapplied) or 0}")
    print(f"all statuses applied {finished - dispatched:.1f}s after dispatch ended")
    if statistics.median(during or [0]) < 0:
        print("warning: negative lags: clocks differ")

    for rows in (CampaignLog.objects.filter(organization=org), WebhookEvent.objects.filter(instance=instance)):
        rows._raw_delete(rows.db)
    drop_organization(org.slug)
    redis = get_redis()
    if redis is not None:
        keys = list(redis.scan_iter(match=f"{PREFIX}:*", count=1000))
        if keys:
            redis.delete(*keys)


if __name__ == "__main__":
    main()
