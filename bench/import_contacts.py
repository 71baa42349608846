"""Benchmark of `manage.py import_contacts` against a bare `psql \\copy` of the same file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wf_bench_contacts SECRET_KEY=x \\
        .venv/bin/python bench/import_contacts.py [--rows 1000000]

Generates bench/out/contacts-N.csv (~2% invalid phones, ~2% phones repeated), then
(a) times `psql \\copy` of it into a bare table of text columns, (b) times our import
into a fresh organization, and (c) times the database's floor for the real table (the same
rows, unvalidated, `\\copy` + one `INSERT … SELECT` into `contacts_contact` for another
fresh organization), and prints rows/s, the ratios b/a and b/c and the import's peak memory.
Targets: ratio b/a <= 3, peak memory < 300 MB. The database must be migrated.
"""

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DDDS = ["11", "21", "31", "41", "51", "61", "71", "81", "85", "92", "19", "47", "55", "27"]
CITIES = ["São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba", "Porto Alegre", "Brasília", "Salvador"]
NAMES = ["Ana", "João", "Maria", "José", "Antônio", "Francisca", "Carlos", "Paulo", "Lúcia", "Pedro"]


def generate(path: Path, rows: int, seed: int = 42) -> None:
    rng = random.Random(seed)
    earlier: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "name", "email", "cidade", "pontos"])
        for n in range(rows):
            roll = rng.random()
            if roll < 0.02:
                phone = rng.choice(["123", "(20) 99999-9999", "abc", "", "11 1234-5678"])
            elif roll < 0.04 and earlier:
                phone = rng.choice(earlier)
            else:
                ddd = rng.choice(DDDS)
                subscriber = f"9{rng.randrange(10**8):08d}" if rng.random() < 0.8 else f"3{rng.randrange(10**7):07d}"
                shape = rng.random()
                if shape < 0.4:
                    phone = f"55{ddd}{subscriber}"
                elif shape < 0.7:
                    phone = f"+55 ({ddd}) {subscriber[:-4]}-{subscriber[-4:]}"
                else:
                    phone = f"{ddd} {subscriber}"
                if len(earlier) < 10_000:
                    earlier.append(phone)
            name = f"{rng.choice(NAMES)} {n}"
            writer.writerow([phone, name, f"cliente{n}@example.com", rng.choice(CITIES), str(rng.randrange(1000))])


def psql_copy(path: Path, database_url: str) -> float:
    table = "bench_bare_contacts"
    setup = f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (phone text, name text, email text, c1 text, c2 text)"
    subprocess.run(["psql", database_url, "-q", "-c", setup], check=True)
    started = time.perf_counter()
    subprocess.run(["psql", database_url, "-q", "-c", f"\\copy {table} FROM '{path}' CSV HEADER"], check=True)
    elapsed = time.perf_counter() - started
    subprocess.run(["psql", database_url, "-q", "-c", f"DROP TABLE {table}"], check=True)
    return elapsed


def psql_copy_into_contacts(path: Path, database_url: str, slug: str) -> float:
    """The database's own floor: the same file, unvalidated, into the real contacts table.

    `\\copy` into a staging table, then one `INSERT … SELECT … ON CONFLICT DO NOTHING`
    into `contacts_contact` (its unique index, foreign key and WAL), for a fresh organization.
    """
    script = f"""
        CREATE TEMP TABLE stage (phone text, name text, email text, c1 text, c2 text);
        \\copy stage FROM '{path}' CSV HEADER
        INSERT INTO contacts_contact (organization_id, phone, name, email, custom_fields, is_active,
            opt_out_reason, opt_out_source, total_messages_received, created_at, updated_at)
        SELECT o.id, left(s.phone, 20), coalesce(s.name, ''), coalesce(s.email, ''),
            jsonb_build_object('cidade', s.c1, 'pontos', s.c2),
            true, '', '', 0, now(), now()
        FROM stage s CROSS JOIN accounts_organization o WHERE o.slug = '{slug}' AND s.phone IS NOT NULL
        ON CONFLICT DO NOTHING;
    """
    started = time.perf_counter()
    subprocess.run(["psql", database_url, "-q", "-v", "ON_ERROR_STOP=1"], input=script, text=True, check=True)
    return time.perf_counter() - started


def create_organization(slug: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            f"from accounts.models import Organization; Organization.objects.create(name='{slug}', slug='{slug}')",
        ],
        cwd=ROOT,
        check=True,
    )


def our_import(path: Path, slug: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "import_contacts",
            str(path),
            "--org",
            slug,
            "--no-progress",
            "--report",
            str(OUT / "report.csv"),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    database_url = os.environ["DATABASE_URL"]
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"contacts-{args.rows}.csv"
    if not path.exists():
        print(f"generating {path} …", flush=True)
        generate(path, args.rows)
    slug, floor_slug = f"bench-{uuid.uuid4().hex[:8]}", f"bench-floor-{uuid.uuid4().hex[:8]}"
    create_organization(slug)
    create_organization(floor_slug)
    copy_seconds = psql_copy(path, database_url)
    floor_seconds = psql_copy_into_contacts(path, database_url, floor_slug)
    import_seconds, summary = our_import(path, slug)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"rows:               {args.rows:,}  ({path.stat().st_size / 1e6:.0f} MB)")
    print(f"(a) psql \\copy:     {copy_seconds:6.2f} s  {args.rows / copy_seconds:12,.0f} rows/s")
    print(f"(b) import_contacts: {import_seconds:6.2f} s  {args.rows / import_seconds:12,.0f} rows/s")
    print(f"(c) \\copy + INSERT … SELECT into contacts_contact, unvalidated: {floor_seconds:6.2f} s")
    print(f"ratio b/a:          {import_seconds / copy_seconds:6.2f}  (target <= 3)")
    print(f"ratio b/c:          {import_seconds / floor_seconds:6.2f}  (our import against the table's own floor)")
    print(f"peak memory:        {peak_mb:6.0f} MB  (largest child process; target < 300)")
    print(f"import said:        {summary}")


if __name__ == "__main__":
    main()
