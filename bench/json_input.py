"""What reading untrusted JSON through `core.json_input` costs next to a bare `json.loads`.

    .venv/bin/python bench/json_input.py

Prints µs per call for a captured Evolution payload (lenient, as the webhook reads it),
a 50-contact API body (strict, as the API's parser reads it) and the refusal of
`[` × 100,000 and of a 3,000-deep object, with the ratio to `json.loads`. No database.
On a shared machine the figures drift: read the ratios.
"""

import json
import os
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

from config import json_input  # noqa: E402


def per_call(function, number: int) -> float:
    return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6


def refuse(body: bytes):
    try:
        json_input.loads_strict(body)
    except json_input.TooDeep:
        return


def main():
    webhook = (ROOT / "tests/fixtures/evolution/v2/messages_upsert_text.json").read_bytes()
    api = json.dumps(
        [
            {"phone": f"+55119{i:08d}", "name": f"Cliente {i}", "custom_fields": {"points": i, "city": "Santos"}}
            for i in range(50)
        ]
    ).encode()
    rows = [
        ("webhook payload, lenient", webhook, lambda: json_input.loads_lenient(webhook), 20_000),
        ("50-contact body, strict", api, lambda: json_input.loads_strict(api), 2_000),
    ]
    print(f"{'body':32} {'bytes':>8} {'json.loads µs':>14} {'json_input µs':>14} {'ratio':>6}")
    for name, body, read, number in rows:
        bare, ours = per_call(lambda body=body: json.loads(body), number), per_call(read, number)
        print(f"{name:32} {len(body):8} {bare:14.1f} {ours:14.1f} {ours / bare:6.2f}")
    for name, body in [
        ("[ x 100,000 (refused)", b"[" * 100_000),
        ("3,000-deep object (refused)", b'{"a":' * 3_000 + b"1" + b"}" * 3_000),
    ]:
        print(f"{name:32} {len(body):8} {'RecursionError':>14} {per_call(lambda body=body: refuse(body), 200):14.1f}")


if __name__ == "__main__":
    main()
