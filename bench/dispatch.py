"""Dispatcher and start benchmarks, against PostgreSQL and Redis (DATABASE_URL, REDIS_URL).

    DATABASE_URL=... REDIS_URL=... SECRET_KEY=x python bench/dispatch.py [-n 20000] [--contacts 1000000] \
        [--workers 1,2]

1. The fake provider runs on loopback in its own process. (a) a plain loop of HTTP posts
   to it; (b) our dispatcher sending an execution of N recipients with each count of worker
   processes in `--workers` (default 2) and no rate limit. Prints messages/s of both, the
   ratio b/a and the workers' peak RSS, then the scaling from the first count to the last.
2. Starting a campaign whose `all` audience has M contacts (recipients created, variables
   resolved in SQL) against a plain `INSERT … SELECT` of as many rows; ratio and peak RSS.
The database must be migrated; the benchmark creates its own organization and removes it.
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("REDIS_KEY_PREFIX", f"bench{os.getpid()}")
os.environ.setdefault("PROVIDER_ALLOW_PRIVATE_NETWORKS", "1")  # the fake provider is on 127.0.0.1


def setup_django():
    import django

    django.setup()


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a process and its children (a Celery worker is a main process plus its pool)."""
    total = 0
    pids = [
        pid,
        *[int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()],
    ]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total = max(total, int(line.split()[1]))
        except FileNotFoundError:
            pass
    return total / 1024


def plain_loop(url: str, n: int) -> float:
    import requests

    session = requests.Session()
    started = time.perf_counter()
    for i in range(n):
        session.post(f"{url}/message/sendText/bench", json={"number": f"55119{i:08d}", "text": "Olá"}, timeout=10)
    return n / (time.perf_counter() - started)


def organization(name: str):
    from accounts.models import Organization

    drop_organization(name)
    return Organization.objects.create(name=name, slug=name)


def drop_organization(slug: str) -> None:
    from django.db import connection

    from accounts.models import Organization
    from campaigns.models import Campaign

    # Raw deletes: Django's cascade collector would load a million contacts into memory.
    ids = list(Organization.objects.filter(slug=slug).values_list("id", flat=True))
    with connection.cursor() as cursor:
        for org_id in ids:
            cursor.execute(
                "DELETE FROM campaigns_recipient WHERE execution_id IN "
                "(SELECT id FROM campaigns_execution WHERE organization_id = %s)",
                [org_id],
            )
            cursor.execute("DELETE FROM campaigns_campaignlog WHERE organization_id = %s", [org_id])
            # The conversations the dispatcher started, with their history and scheduled sends.
            cursor.execute("DELETE FROM flows_messagehistory WHERE organization_id = %s", [org_id])
            cursor.execute(
                "DELETE FROM flows_scheduledsend WHERE conversation_id IN "
                "(SELECT id FROM flows_conversation WHERE organization_id = %s)",
                [org_id],
            )
            cursor.execute("DELETE FROM flows_conversation WHERE organization_id = %s", [org_id])
            cursor.execute("DELETE FROM contacts_contact WHERE organization_id = %s", [org_id])
    Campaign.objects.filter(organization__slug=slug).delete()
    Organization.objects.filter(slug=slug).delete()


def make_contacts(org, n: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO contacts_contact (organization_id, phone, name, email, custom_fields, is_active,
                   opt_out_reason, opt_out_source, total_messages_received, created_at, updated_at)
               SELECT %s, '+55' || (11900000000 + g)::text, 'Cliente ' || g, '', jsonb_build_object('points', g %% 500),
                      true, '', '', 0, now(), now()
               FROM generate_series(1, %s) AS g""",
            [org.id, n],
        )


def bench_dispatch(n: int, url: str, workers: int = 2) -> dict:
    from campaigns.models import Execution
    from campaigns.services import starting
    from tests.factories.campaigns import CampaignFactory, make_evolution_instance
    from tests.support.workers import Workers

    org = organization("bench-dispatch")
    make_contacts(org, n)
    instance = make_evolution_instance(org, url, name=f"bench-{os.getpid()}")
    campaign = CampaignFactory(organization=org, instances=[instance], max_concurrent_executions=5)
    pool = Workers(workers, env={"LOG_LEVEL": "ERROR", "CONN_MAX_AGE": "60"}).start()
    try:
        time.sleep(4)  # worker start-up is not part of the sending rate
        started = time.perf_counter()
        execution = starting.start_campaign(campaign=campaign)
        while Execution.objects.filter(id=execution.id).values_list("status", flat=True).get() != "completed":
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        memory = [peak_rss_mb(p.pid) for p in pool.processes]
    finally:
        pool.stop()
    sent = execution.recipients.filter(status="sent").count()
    drop_organization(org.slug)
    return {"rate": sent / elapsed, "sent": sent, "seconds": elapsed, "worker_peak_mb": memory}


def bench_start(m: int) -> None:
    """Runs in its own process so its peak RSS is the start's alone."""
    from django.db import connection

    from campaigns.models import Execution, Recipient
    from campaigns.services import starting
    from tests.factories.campaigns import CampaignFactory

    org = organization("bench-start")
    make_contacts(org, m)
    campaign = CampaignFactory(
        organization=org,
        max_concurrent_executions=5,
        variable_mapping={
            "customer_name": "{{contact.name}}",
            "points": "{{contact.custom_fields.points}}",
            "d": "10%",
        },
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    with _no_dispatch():
        execution = starting.start_campaign(campaign=campaign)
    ours = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    plain_execution = Execution.objects.create(organization=org, campaign=campaign)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Recipient._meta.db_table} (execution_id, contact_id, phone, variables, status, created_at,
                    next_attempt_at, provider_message_id, error, retry_count)
                SELECT %s, id, phone, '{{}}'::jsonb, 'pending', now(), now(), '', '', 0
                FROM contacts_contact WHERE organization_id = %s""",
            [plain_execution.id, org.id],
        )
    plain = time.perf_counter() - started
    print(
        f"start of a {m:,}-contact 'all' audience: {ours:.1f}s ({execution.total_recipients:,} recipients); "
        f"plain INSERT … SELECT: {plain:.1f}s; ratio {ours / plain:.2f}x (target <= 3x); "
        f"peak RSS {rss_after:.0f} MB (before the start {rss_before:.0f} MB; target < 300 MB)"
    )
    drop_organization(org.slug)


class _no_dispatch:
    """The start benchmark measures creating recipients, not sending them."""

    def __enter__(self):
        from campaigns import tasks

        self._queue, tasks.queue_dispatch = tasks.queue_dispatch, lambda *a, **k: None

    def __exit__(self, *exc):
        from campaigns import tasks

        tasks.queue_dispatch = self._queue


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20_000, help="recipients of the dispatch benchmark")
    parser.add_argument("--plain", type=int, default=5_000, help="posts of the plain loop")
    parser.add_argument("--contacts", type=int, default=1_000_000, help="audience of the start benchmark")
    parser.add_argument("--part", choices=["all", "dispatch", "start"], default="all")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--workers", default="2", help="worker process counts to measure, e.g. 1,2")
    args = parser.parse_args()
    if args.part in ("all", "dispatch"):
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.support.fakes.provider_server", "--port", str(args.port), "--no-record"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        try:
            time.sleep(1)
            url = f"http://127.0.0.1:{args.port}"
            plain = plain_loop(url, args.plain)
            setup_django()
            counts = [int(c) for c in args.workers.split(",")]
            results = {count: bench_dispatch(args.n, url, workers=count) for count in counts}
        finally:
            server.terminate()
            server.wait()
        print(f"plain loop of posts: {plain:.0f} msg/s ({args.plain:,} posts)")
        for count, result in results.items():
            print(
                f"dispatcher, {count} worker(s): {result['rate']:.0f} msg/s ({result['sent']:,} sent in "
                f"{result['seconds']:.1f}s); ratio {result['rate'] / plain:.2f} (targets >= 0.5 and >= 500 msg/s); "
                f"worker peak RSS {', '.join(f'{m:.0f} MB' for m in result['worker_peak_mb'])}"
            )
        if len(counts) > 1:
            first, last = results[counts[0]]["rate"], results[counts[-1]]["rate"]
            linear = counts[-1] / counts[0]
            print(f"scaling {counts[0]} -> {counts[-1]} workers: x{last / first:.2f} (linear would be x{linear:.2f})")
    if args.part == "all":
        subprocess.run([sys.executable, __file__, "--part", "start", "--contacts", str(args.contacts)], check=True)
    elif args.part == "start":
        setup_django()
        bench_start(args.contacts)


if __name__ == "__main__":
    main()
