"""The whole API fuzzed from its OpenAPI schema against gunicorn, longer than the suite's run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wf_fuzz REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/fuzz_api.py [--examples 100] [--seconds 600] [--only PATH-SUBSTRING]

Migrates the database named by DATABASE_URL (created if missing), seeds an organization with
one object of each kind and its admin's token, starts gunicorn with the project's config
(tests/support/fuzz.py: provider calls go to a closed loopback proxy, so nothing leaves
the machine), and runs schemathesis' generated requests (positive and negative) through every
operation, checking each response (no 5xx; documented status, content type, headers, body).
Prints the operations tried, requests made and the distinct failures found. Exit status 1 when
anything failed.
"""

import argparse
import os
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex)
os.environ["REDIS_KEY_PREFIX"] = f"fuzz:{uuid.uuid4().hex[:8]}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=100, help="generated requests per operation")
    parser.add_argument("--seconds", type=float, default=600, help="time budget of the whole run")
    parser.add_argument("--only", default="", help="only operations whose 'METHOD /path' contains this")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it is created if missing).")
    from bench.webhooks import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tests.support.fuzz import LiveServer, fuzz, seed

    call_command("migrate", verbosity=0)
    seeded = seed()
    connection.close()
    env = {"REDIS_KEY_PREFIX": os.environ["REDIS_KEY_PREFIX"], "SECRET_KEY": os.environ["SECRET_KEY"]}
    with LiveServer(env) as server:
        report = fuzz(
            base_url=server.url,
            token=seeded["token"],
            pins=seeded["pins"],
            max_examples=args.examples,
            budget_seconds=args.seconds,
            include=(lambda label: args.only in label) if args.only else None,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    print(report.summary())
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
