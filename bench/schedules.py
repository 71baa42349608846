"""Schedule benchmarks, against PostgreSQL and Redis (DATABASE_URL, REDIS_URL).

    DATABASE_URL=... REDIS_URL=... SECRET_KEY=x python bench/schedules.py [-n 10000] [--part preview|ticker|profile|all]
        [--workers 1,2] [--rounds 3] [--lead 15] [--profile-n 500]

1. Preview: the calculator's next 10 occurrences for each recurrence type, holidays
   (BR-SP, optional ones too), weekends and a window on; median and p99 in µs over many
   calls (targets: p99 < 5 ms).
2. Ticker: N schedules due within one minute (the last `--lead` seconds after seeding),
   each campaign's audience one contact, real worker processes (which also run the
   executions' dispatchers), `--rounds` rounds of each `--workers` count in turn. The
   clock starts when the last occurrence is due and the first tick is sent (as beat
   would); it stops when every schedule's run is `started`. Then checks each occurrence
   started exactly once (target: 10,000 within 60 s). With several worker counts it
   prints their ratio per round (how far ticking scales out on this machine).
3. Profile: in this process, one ticker pass over N due schedules against N plain manual
   starts (the floor): statements and milliseconds per start, and their ratio (the machine
   is shared: the ratio is the figure to compare between runs).
The database must be migrated; the benchmark creates its own organization and removes it.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("REDIS_KEY_PREFIX", f"bench{os.getpid()}")


def bench_preview(calls: int) -> None:
    from datetime import UTC, datetime

    from campaigns.models import Schedule
    from campaigns.schedules import occurrences

    common = {
        "start_date": date(2025, 11, 1),
        "start_time": clock_time(9),
        "execution_window_start": clock_time(9),
        "execution_window_end": clock_time(18),
        "execution_timezone": "America/Sao_Paulo",
        "skip_weekends": True,
        "skip_holidays": True,
        "holiday_subdivision": "SP",
        "include_optional_holidays": True,
        "blackout_dates": ["2025-12-25", "2026-01-01"],
    }
    configs = {
        "once": {"recurrence_type": "once", "start_date": date(2026, 3, 2)},
        "daily": {"recurrence_type": "daily", "recurrence_config": {"interval": 1}},
        "weekly": {"recurrence_type": "weekly", "recurrence_config": {"days": ["MON", "WED", "FRI"], "interval": 2}},
        "monthly": {"recurrence_type": "monthly", "recurrence_config": {"day": 31, "interval": 1}},
        "cron": {"recurrence_type": "cron", "recurrence_config": {"expression": "0 9,15 * * MON-FRI"}},
        "custom": {
            "recurrence_type": "custom",
            "recurrence_config": {"dates": [f"2026-{m:02d}-{d:02d}T12:00:00Z" for m in range(1, 13) for d in (5, 20)]},
        },
    }
    after = datetime(2025, 12, 15, tzinfo=UTC)
    print(f"preview of 10 occurrences (holidays BR-SP + optional, weekends, window), {calls:,} calls each:")
    for name, fields in configs.items():
        schedule = Schedule(**(common | fields))
        occurrences.preview(schedule, [], after=after, count=10, days_ahead=365)  # holiday tables loaded once
        samples = []
        for i in range(calls):
            at = after + timedelta(hours=i % 2000)
            started = time.perf_counter_ns()
            occurrences.preview(schedule, [], after=at, count=10, days_ahead=365)
            samples.append((time.perf_counter_ns() - started) / 1000)
        samples.sort()
        p99 = samples[int(len(samples) * 0.99) - 1]
        print(f"  {name:8s} median {statistics.median(samples):7.0f} µs   p99 {p99:7.0f} µs   (target p99 < 5000 µs)")


def one_contact_campaigns(org, n: int, *, offset: int = 0) -> list:
    """N campaigns, each with a one-contact audience (contacts offset…offset+n of the organization)."""
    from campaigns.models import Campaign, CampaignInstance
    from contacts.models import Contact
    from instances.models import WhatsAppInstance
    from tests.factories.campaigns import make_flow

    flow = make_flow(org, "Olá {{customer_name}}", wait_for_reply=False)
    instance = WhatsAppInstance.objects.create(organization=org, name=f"bench-sandbox-{os.getpid()}-{offset}")
    contact_ids = list(Contact.objects.filter(organization=org).order_by("id").values_list("id", flat=True))
    campaigns = Campaign.objects.bulk_create(
        [
            Campaign(
                organization=org,
                name=f"Agendada {offset + i}",
                template=flow.template,
                flow=flow,
                audience_type="custom",
                audience_config={"contact_ids": [contact_id]},
                variable_mapping={"customer_name": "{{contact.name}}"},
            )
            for i, contact_id in enumerate(contact_ids[offset : offset + n])
        ],
        batch_size=2000,
    )
    CampaignInstance.objects.bulk_create([CampaignInstance(campaign=c, instance=instance) for c in campaigns], 2000)
    return campaigns


def bench_profile(n: int) -> None:
    """Statements and time per start: one ticker pass against the plain manual start loop."""
    from unittest import mock

    from dispatch import drop_organization, make_contacts, organization
    from django.db import connection, transaction

    from campaigns import windows
    from campaigns.models import Schedule, ScheduleRun
    from campaigns.schedules import ticker
    from campaigns.services.starting import start_campaign
    from campaigns.tasks import dispatch_execution

    org = organization("bench-schedules-profile")
    make_contacts(org, 2 * n)
    manual = one_contact_campaigns(org, n)
    scheduled = one_contact_campaigns(org, n, offset=n)
    due = windows.now() - timedelta(seconds=5)
    Schedule.objects.bulk_create(
        [
            Schedule(
                organization=org,
                campaign=c,
                recurrence_type="once",
                start_date=due.astimezone(ZoneInfo("America/Sao_Paulo")).date(),
                start_time=due.astimezone(ZoneInfo("America/Sao_Paulo")).time(),
                next_scheduled_at=due,
            )
            for c in scheduled
        ]
    )
    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    figures = {}
    with mock.patch.object(dispatch_execution, "apply_async") as queued, connection.execute_wrapper(count):
        started = time.perf_counter()
        for c in manual:
            with transaction.atomic():
                start_campaign(campaign=c)
        figures["manual"] = (time.perf_counter() - started, len(statements), queued.call_count)
        statements.clear()
        queued.reset_mock()
        started = time.perf_counter()
        counts = ticker.tick(budget_seconds=600)
        figures["ticker"] = (time.perf_counter() - started, len(statements), queued.call_count)
    runs = ScheduleRun.objects.filter(schedule__organization=org, status="started").count()
    print(f"profile, in process, {n:,} one-contact starts each (ticker: {counts['started']:,} started, {runs:,} runs):")
    for name, (seconds, sql, tasks) in figures.items():
        print(
            f"  {name:7s} {sql / n:5.1f} statements/start (savepoints included)  {seconds * 1000 / n:5.1f} ms/start  "
            f"{n / seconds:5.0f} starts/s  {tasks / n:.1f} dispatch tasks/start"
        )
    ratio = figures["ticker"][0] / figures["manual"][0]
    print(f"  ticker / manual start time: {ratio:.2f}")
    drop_organization(org.slug)


def bench_ticker(n: int, *, workers: list[int], rounds: int, lead: float) -> None:
    """Rounds of N schedules due within one minute, ticked by each count of workers in turn."""
    from campaigns.tasks import run_due_schedules
    from tests.support.workers import publish_under_test_prefix

    publish_under_test_prefix()
    rates = {count: [] for count in workers}
    for round_number in range(1, rounds + 1):
        for count in workers:
            elapsed, line = ticker_round(n, count, lead=lead, tick=run_due_schedules)
            rates[count].append(n / elapsed)
            print(f"  round {round_number} {line}", flush=True)
    for count, values in rates.items():
        print(f"ticker, {count} worker(s): median {statistics.median(values):.0f} starts/s over {len(values)} round(s)")
    forget_broker_keys()
    if len(workers) > 1 and rounds:
        ratios = [b / a for a, b in zip(rates[workers[0]], rates[workers[-1]], strict=True)]
        print(
            f"  {workers[-1]} workers / {workers[0]} worker(s), per round: "
            + ", ".join(f"{r:.2f}" for r in ratios)
            + f"  (median {statistics.median(ratios):.2f})"
        )


def forget_broker_keys() -> None:
    """Remove what the rounds left in Redis under this run's key prefix (bindings, counters)."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{settings.REDIS_KEY_PREFIX}:*"):
        client.delete(key)


def ticker_round(n: int, count: int, *, lead: float, tick) -> tuple[float, str]:
    """One round: seed, start `count` workers, tick when the last occurrence is due, wait for every start."""
    from dispatch import drop_organization, make_contacts, organization
    from django.db import connection

    from campaigns import windows
    from campaigns.models import Execution, Schedule, ScheduleRun
    from config.celery import app
    from tests.support.workers import Workers

    org = organization("bench-schedules")
    make_contacts(org, n)
    campaigns = one_contact_campaigns(org, n)
    last_due = windows.now() + timedelta(seconds=lead)
    schedules = []
    for i, c in enumerate(campaigns):
        at = last_due - timedelta(seconds=i % 60)  # all within one minute
        local = at.astimezone(ZoneInfo("America/Sao_Paulo"))
        schedules.append(
            Schedule(
                organization=org,
                campaign=c,
                recurrence_type="once",
                start_date=local.date(),
                start_time=local.time(),
                next_scheduled_at=at,
            )
        )
    Schedule.objects.bulk_create(schedules, batch_size=2000)
    pool = Workers(count, env={"LOG_LEVEL": "ERROR", "CONN_MAX_AGE": "60"}).start()
    try:
        while windows.now() < last_due:
            time.sleep(0.1)
        started_at = time.perf_counter()
        tick.delay()  # the beat's tick after the minute
        while ScheduleRun.objects.filter(schedule__organization=org, status="started").count() < n:
            time.sleep(0.25)
            if time.perf_counter() - started_at > 600:
                break
        elapsed = time.perf_counter() - started_at
    finally:
        pool.stop()
        app.control.purge()  # the dispatchers still queued must not run in the next round
    runs = ScheduleRun.objects.filter(schedule__organization=org)
    executions = Execution.objects.filter(campaign__organization=org)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT campaign_id FROM campaigns_execution WHERE organization_id = %s "
            "GROUP BY campaign_id HAVING count(*) > 1) twice",
            [org.id],
        )
        doubled = cursor.fetchone()[0]
    started = runs.filter(status="started").count()
    line = (
        f"{count} worker(s): {started:,} of {n:,} schedules due in one minute started in {elapsed:.1f}s after the "
        f"minute's last occurrence ({started / elapsed:.0f} starts/s); runs {runs.count():,}, "
        f"executions {executions.count():,}, campaigns started twice: {doubled}"
    )
    drop_organization(org.slug)
    return elapsed, line


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10_000, help="schedules due in the same minute")
    parser.add_argument("--profile-n", type=int, default=500, help="starts in the in-process profile")
    parser.add_argument("--calls", type=int, default=2_000, help="preview calls per recurrence type")
    parser.add_argument("--part", choices=["all", "preview", "ticker", "profile"], default="all")
    parser.add_argument("--workers", default="2", help="worker counts to tick with, in turn each round, e.g. 1,2")
    parser.add_argument("--rounds", type=int, default=1, help="ticker rounds")
    parser.add_argument("--lead", type=float, default=15, help="seconds from seeding to the last occurrence due")
    args = parser.parse_args()
    import django

    django.setup()
    if args.part in ("all", "preview"):
        bench_preview(args.calls)
    if args.part in ("all", "profile"):
        bench_profile(args.profile_n)
    if args.part in ("all", "ticker"):
        bench_ticker(args.n, workers=[int(w) for w in args.workers.split(",")], rounds=args.rounds, lead=args.lead)


if __name__ == "__main__":
    main()
