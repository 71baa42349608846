"""Benchmark of the Evolution webhook endpoint against the same server's bare "return 200".

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wf_webhooks_bench REDIS_URL=redis://127.0.0.1:6379/6 \
        .venv/bin/python bench/webhooks.py [--recipients 40000] [--rounds 12] [--seconds 4] [--connections 16]

Starts gunicorn as the Procfile does (config/gunicorn.py: 2 workers x 16 threads, a
listening socket per worker) with the production settings (DEBUG off, the default queued
intake) on PostgreSQL, seeds one Evolution instance with a campaign of `--recipients` sent
recipients (then VACUUM ANALYZE, CHECKPOINT and sync, so the seed's aftermath is not
measured), and drives it from worker processes on loopback, each with its own keep-alive
connection. `--rounds` short rounds, each the floor view then real-format v2
`messages.update` bodies of those recipients, as fast as answered (closed loop); both get
the same request bytes, and every request to the endpoint is a new event, none is posted
twice. Many short rounds, because a shared machine's speed drifts by a fifth within a
minute: the medians, and each round's own ratio, are what to read. Then the endpoint at 70%
of its median rate (open loop, latency counted from each request's scheduled time, so a
stall is not hidden): p50/p99, and the floor's at the same rate. The database named by
DATABASE_URL is created if missing, and what the run seeded and stored is deleted at the
end (its tables are vacuumed before each run); the Redis keys go under a prefix of their
own and are deleted too.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765


def server_env(prefix: str) -> dict:
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=env.get("SECRET_KEY") or uuid.uuid4().hex,
        ALLOWED_HOSTS="127.0.0.1",
        WEBHOOKS_FLOOR_VIEW="1",
        REDIS_KEY_PREFIX=prefix,
        LOG_LEVEL="WARNING",
        WEB_ACCESS_LOG="",
        WEB_REUSE_PORT="1",  # as measured (docs/benchmarks.md); opt-in since docs/operations.md
    )
    return env


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(recipients: int) -> tuple[str, str, list[str]]:
    """(instance name, webhook secret, provider message ids) of a campaign already sent."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Organization
    from campaigns.models import Recipient
    from contacts.models import Contact
    from instances.models import WhatsAppInstance
    from tests.factories.campaigns import CampaignFactory, ExecutionFactory
    from webhooks.models import WebhookEvent

    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:8]
    org = Organization.objects.create(name=f"Bench {run}", slug=f"bench-{run}")
    instance = WhatsAppInstance.objects.create(
        organization=org,
        name="bench",
        provider="evolution",
        base_url="http://127.0.0.1:9",
        instance_name=f"bench-{run}",
        api_key="bench",
        connection_state="open",
    )
    contacts = Contact.objects.bulk_create(Contact(organization=org, phone=f"+55119{n:08d}") for n in range(recipients))
    execution = ExecutionFactory(
        organization=org, campaign=CampaignFactory(organization=org, instances=[instance]), status="running"
    )
    now = timezone.now()
    ids = [f"BAE5{run.upper()}{n:08X}" for n in range(recipients)]
    Recipient.objects.bulk_create(
        (
            Recipient(
                execution=execution,
                contact=c,
                instance=instance,
                phone=c.phone,
                status="sent",
                provider_message_id=ids[n],
                sent_at=now,
            )
            for n, c in enumerate(contacts)
        ),
        batch_size=5000,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        # Earlier runs' deleted rows too: PostgreSQL may run without autovacuum (this machine's does).
        for model in (Contact, Recipient, WebhookEvent, Organization):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        cursor.execute("CHECKPOINT")
    os.sync()  # the seed's writes reach the disk now, not during the first round
    return instance.instance_name, instance.webhook_secret, ids


def body(instance_name: str, message_id: str, status: str) -> bytes:
    phone = "5511999999999@s.whatsapp.net"
    return json.dumps(
        {
            "event": "messages.update",
            "instance": instance_name,
            "data": {
                "messageId": uuid.uuid4().hex,
                "keyId": message_id,
                "remoteJid": phone,
                "fromMe": True,
                "participant": phone,
                "status": status,
                "instanceId": "bench",
            },
            "destination": "http://127.0.0.1/api/webhooks/evolution/",
            "date_time": "2025-03-14T10:21:07.512Z",
            "sender": "5511912345678@s.whatsapp.net",
            "server_url": "http://127.0.0.1:8080",
            "apikey": None,
        }
    ).encode()


def client(index, path, bodies, offset, start_at, seconds, rate, results):
    """One keep-alive connection; rate 0 = as fast as answered. Puts (index, count, errors, latencies)."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT)
    headers = {"Content-Type": "application/json"}
    latencies, errors, count = [], 0, 0
    while time.time() < start_at:
        time.sleep(0.001)
    end = start_at + seconds
    scheduled = start_at
    while True:
        if rate:
            scheduled += 1 / rate
            if scheduled >= end:
                break
            delay = scheduled - time.time()
            if delay > 0:
                time.sleep(delay)
        began = scheduled if rate else time.time()
        if not rate and began >= end:
            break
        body = bodies[(offset + count) % len(bodies)] if bodies else b"{}"
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        errors += response.status != 200
        latencies.append(time.time() - began)
        count += 1
    results.put((index, count, errors, latencies))


class Load:
    """The clients' event lists, and how far each has gone through its own, across phases."""

    def __init__(self, bodies_per_client):
        self.bodies = bodies_per_client
        self.offsets = [0] * len(bodies_per_client)

    @property
    def repeats(self) -> int:
        pairs = zip(self.offsets, self.bodies, strict=True)
        return sum(max(0, used - len(bodies)) for used, bodies in pairs if bodies)

    def drive(self, path, seconds, rate_total=0.0):
        """(req/s, errors, sorted latencies) of `seconds` of load."""
        results = multiprocessing.Queue()
        start_at = time.time() + 0.5
        per_client = rate_total / len(self.bodies) if rate_total else 0
        procs = [
            multiprocessing.Process(
                target=client, args=(i, path, bodies, self.offsets[i], start_at, seconds, per_client, results)
            )
            for i, bodies in enumerate(self.bodies)
        ]
        for proc in procs:
            proc.start()
        collected = [results.get() for _ in procs]
        for proc in procs:
            proc.join()
        for index, count, _, _ in collected:
            self.offsets[index] += count
        count = sum(c for _, c, _, _ in collected)
        errors = sum(e for _, _, e, _ in collected)
        latencies = sorted(lat for _, _, _, lats in collected for lat in lats)
        return count / seconds, errors, latencies


def percentile(values, p):
    return values[min(len(values) - 1, int(len(values) * p / 100))] * 1000 if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=40000, help="two events each: delivered, read")
    parser.add_argument("--seconds", type=float, default=4, help="of each phase of a round")
    parser.add_argument("--rounds", type=int, default=12, help="short, and many: the machine's speed drifts")
    parser.add_argument("--paced-seconds", type=float, default=16)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--threads", type=int, default=16, help="threads per worker (WEB_THREADS)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it is created if missing).")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex)
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    os.environ["REDIS_KEY_PREFIX"] = prefix
    sys.path.insert(0, str(ROOT))
    ensure_database(os.environ["DATABASE_URL"])
    instance_name, secret, ids = seed(args.recipients)
    statuses = ["DELIVERY_ACK", "READ"]
    # Each connection gets its own slice of distinct events: every request is a new event, as in production.
    slices = [
        [body(instance_name, ids[n], status) for status in statuses for n in range(i, len(ids), args.connections)]
        for i in range(args.connections)
    ]
    gunicorn = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-c",
            "config/gunicorn.py",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=server_env(prefix),
    )
    floors, hooks = [], []
    try:
        time.sleep(3)
        floor_path = "/api/webhooks/floor"
        hook_path = f"/api/webhooks/evolution/{secret}/"
        # The floor gets the same request bytes (it stores nothing, so repeats cost it nothing).
        floor_load, hook_load = Load(slices), Load(slices)
        floor_load.drive(floor_path, 2)  # warm-up
        hook_load.drive(hook_path, 2)
        errors = 0
        for round_ in range(args.rounds):
            floor_rps, floor_errors, _ = floor_load.drive(floor_path, args.seconds)
            hook_rps, hook_errors, _ = hook_load.drive(hook_path, args.seconds)
            floors.append(floor_rps)
            hooks.append(hook_rps)
            errors += floor_errors + hook_errors
            print(
                f"round {round_ + 1}: floor {floor_rps:6.0f} req/s   messages.update {hook_rps:6.0f} req/s   "
                f"ratio {hook_rps / floor_rps:.2f}",
                flush=True,
            )
        floor_rps, hook_rps = statistics.median(floors), statistics.median(hooks)
        target = 0.7 * hook_rps
        paced_rps, paced_errors, latencies = hook_load.drive(hook_path, args.paced_seconds, rate_total=target)
        # The floor at the same rate: how much of that latency the machine and the load generator make.
        _, _, floor_latencies = floor_load.drive(floor_path, args.paced_seconds, rate_total=target)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
    from django.db import connection

    from campaigns.models import Recipient
    from contacts.models import Contact
    from core.redis import get_redis
    from instances.models import WhatsAppInstance
    from webhooks.models import WebhookEvent

    stored = WebhookEvent.objects.filter(instance__instance_name=instance_name).count()
    # What the run stored and seeded in bulk, so runs do not pile up (its few other rows stay).
    instance = WhatsAppInstance.objects.get(instance_name=instance_name)
    for rows in (
        WebhookEvent.objects.filter(instance=instance),
        Recipient.objects.filter(instance=instance),
        Contact.objects.filter(organization_id=instance.organization_id),
    ):
        rows._raw_delete(rows.db)
    connection.close()
    redis = get_redis()
    if redis is not None:
        keys = list(redis.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            redis.delete(*keys)
    print(f"floor (bare 200):        {floor_rps:8.0f} req/s  (median of {args.rounds})")
    print(f"messages.update:         {hook_rps:8.0f} req/s  (median of {args.rounds})  errors={errors}")
    ratios = sorted(hook / floor for hook, floor in zip(hooks, floors, strict=True))
    print(
        f"ratio:                   {hook_rps / floor_rps:8.2f}  (target >= 0.5)  "
        f"per round: median {statistics.median(ratios):.2f}, {ratios[0]:.2f}-{ratios[-1]:.2f}"
    )
    print(
        f"at 70% ({target:.0f} req/s):   {paced_rps:8.0f} req/s  errors={paced_errors}  "
        f"p50={percentile(latencies, 50):.1f} ms  p99={percentile(latencies, 99):.1f} ms  (target p99 < 50 ms)  "
        f"p99.9={percentile(latencies, 99.9):.1f} ms  max={percentile(latencies, 100):.1f} ms"
    )
    print(
        f"the floor at that rate:  p50={percentile(floor_latencies, 50):.1f} ms  "
        f"p99={percentile(floor_latencies, 99):.1f} ms"
    )
    print(f"events stored: {stored}; posted twice: {hook_load.repeats}")
    print(
        f"connections={args.connections} gunicorn workers={args.workers} "
        f"threads={args.threads} cores={os.cpu_count()} (the load generator shares them)"
    )


if __name__ == "__main__":
    main()
