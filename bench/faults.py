"""A campaign through faults, on a PostgreSQL and a Redis of its own; prints what each fault cost.

    python bench/faults.py [-n 600]          (as root: PostgreSQL runs as the `postgres` user)

It starts PostgreSQL 15 (`initdb`/`pg_ctl` from /usr/lib/postgresql/15/bin, in a temporary
folder) and `redis-server --save ''` on free ports, migrates, and runs one campaign of N
contacts through the fake Evolution server (60 ms a send, every 40th answered 500) with two
real workers and a sweep every 10 s (as beat would). At fixed counts of sends it injects:
a worker SIGKILLed (and a new one started, as a supervisor would), Redis restarted empty,
PostgreSQL restarted (stop, 5 s, start). For each it prints how long until the next ten sends
after the service was back, then the recipients' final statuses, sends per phone (never
two) and how many are `unknown` (each must have `attempted_at`).
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class Postgres:
    def __init__(self, folder: Path, port: int):
        self.folder, self.port = folder, port
        folder.mkdir()
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        subprocess.run(
            as_postgres(str(PG_BIN / "initdb"), "-D", str(folder / "data"), "--username=postgres", "--auth=trust"),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            as_postgres(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-o",
                options,
                "-w",
                "start",
                "-l",
                str(self.folder / "log"),
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        subprocess.run(
            as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"),
            check=False,
            stdout=subprocess.DEVNULL,
        )


class Redis:
    def __init__(self, port: int):
        self.port, self.process = port, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        time.sleep(0.3)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=600, help="contacts of the campaign")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="whatsflow-faults-"))
    os.chmod(folder, 0o755)
    pg, redis = Postgres(folder / "pg", free_port()), Redis(free_port())
    pg.start()
    redis.start()
    workers = []
    try:
        subprocess.run(
            as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "whatsflow"),
            check=True,
        )
        os.environ.update(
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{pg.port}/whatsflow",
            REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
            SECRET_KEY="bench-only",
            DEBUG="0",
            LOG_LEVEL="ERROR",
            CONN_MAX_AGE="0",
            PROVIDER_ALLOW_PRIVATE_NETWORKS="1",
            DJANGO_SETTINGS_MODULE="config.settings",
        )
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
        run(args.n, pg, redis, workers)
    finally:
        for pool in workers:
            pool.stop()
        redis.stop()
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)


def run(n: int, pg: Postgres, redis: Redis, workers: list) -> None:
    import django

    django.setup()
    from django.db import connection

    from accounts.models import Organization
    from campaigns.models import Recipient
    from campaigns.sending import dispatch
    from campaigns.services import starting
    from contacts.models import Contact
    from tests.factories.campaigns import CampaignFactory, make_evolution_instance
    from tests.support.fakes.provider_server import FakeProviderServer, default_answer
    from tests.support.workers import Workers

    server = FakeProviderServer().start()
    count = {"n": 0}

    def answer(request):
        count["n"] += 1
        if count["n"] % 40 == 0:
            return 500, {"status": 500, "error": "Internal Server Error"}
        return default_answer(request)

    server.respond("POST", r"^/message/sendText/", delay=0.06, handler=answer)
    org = Organization.objects.create(name="Faults", slug="faults")
    Contact.objects.bulk_create(
        [Contact(organization=org, phone=f"+5511{9200000 + i:08d}", name=f"Cliente {i}") for i in range(n)]
    )
    campaign = CampaignFactory(organization=org, instances=[make_evolution_instance(org, server.url)])
    env = {"CAMPAIGNS_RETRY_BASE_SECONDS": "2"}
    workers.append(Workers(2, env=env).start())
    time.sleep(4)
    stop_sweeping = threading.Event()

    def sweeping():
        while not stop_sweeping.wait(10):
            try:
                dispatch.sweep()
            except Exception as error:  # noqa: BLE001 - the database may be the fault
                print(f"  sweep failed: {error.__class__.__name__}")
                connection.close()

    threading.Thread(target=sweeping, daemon=True).start()
    execution = starting.start_campaign(campaign=campaign)
    sends = lambda: len(server.requests_to(r"^/message/sendText/"))  # noqa: E731

    def resumed_after(back_at: float) -> float:
        before = sends()
        while sends() < before + 10:
            time.sleep(0.05)
        return time.monotonic() - back_at

    def at_sends(k: int) -> None:
        while sends() < k:
            time.sleep(0.05)

    figures = []
    at_sends(n // 6)
    workers[0].kill(0)
    workers.append(Workers(1, env=env).start())
    figures.append(("worker SIGKILLed, a new one started", resumed_after(time.monotonic())))
    at_sends(n * 2 // 6)
    redis.stop()
    time.sleep(2)
    redis.start()
    figures.append(("Redis restarted empty (2 s down)", resumed_after(time.monotonic())))
    at_sends(n * 3 // 6)
    pg.stop()
    time.sleep(5)
    pg.start()
    figures.append(("PostgreSQL restarted (5 s down)", resumed_after(time.monotonic())))

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            left = Recipient.objects.filter(execution=execution, status__in=["pending", "sending"]).count()
        except Exception:  # noqa: BLE001
            connection.close()
            left = -1
        if left == 0:
            break
        time.sleep(1)
    stop_sweeping.set()
    for name, seconds in figures:
        print(f"{name}: sending resumed {seconds:.1f}s after the service was back (next 10 sends)")
    statuses = Counter(Recipient.objects.filter(execution=execution).values_list("status", flat=True))
    per_phone = Counter(r.json["number"] for r in server.requests_to(r"^/message/sendText/") if r.json)
    unattempted_unknown = Recipient.objects.filter(
        execution=execution, status="unknown", attempted_at__isnull=True
    ).count()
    print(f"recipients: {dict(statuses)} of {n}")
    print(
        f"requests per phone: at most {max(per_phone.values())} accepted-or-not "
        f"(every 40th answered 500 and retried); phones reached {len(per_phone)}"
    )
    accepted_twice = [
        phone
        for phone, times in per_phone.items()
        if times > 1 and Recipient.objects.filter(execution=execution, phone=f"+{phone}", retry_count=0).exists()
    ]
    print(
        f"sent twice without a 500 in between: {len(accepted_twice)}; unknown without an attempt: {unattempted_unknown}"
    )
    server.stop()


if __name__ == "__main__":
    main()
