"""The embedded default (SQLite, no Redis, DEBUG on) as a test tier: `make test-embedded`.

A test that truly needs PostgreSQL or Redis says so with `needs_postgresql` / `needs_redis`
(skipped there with the reason); a known defect of the tier is a strict xfail, so the day it
is fixed the suite says so.
"""

import pytest
from django.conf import settings

ON_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")

needs_postgresql = pytest.mark.skipif(ON_SQLITE, reason="needs PostgreSQL (the embedded default is SQLite)")
needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (the embedded default has none)")
