"""The contract holds for generated requests: schemathesis over every operation of the served
schema, against gunicorn on the test PostgreSQL (committed data, so a transactional test), with
an organization admin's bearer token. No 5xx; every status, content type, header and body is the
documented one. About a minute; `bench/fuzz_api.py` is the longer run."""

import pytest
from django.conf import settings

from tests.support.fuzz import LiveServer, fuzz, seed
from tests.support.workers import database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def test_every_operation_answers_generated_requests_as_its_schema_says():
    seeded = seed()
    env = {
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        "SECRET_KEY": "test-only",
    }
    with LiveServer(env) as server:
        report = fuzz(
            base_url=server.url, token=seeded["token"], pins=seeded["pins"], max_examples=8, budget_seconds=45
        )
    print(report.summary())
    assert report.operations >= 90, report.summary()
    assert report.requests >= 3 * report.operations, report.summary()
    assert {200, 201, 400, 404} <= set(report.statuses), report.summary()
    # The failure list is the report: one line per distinct flaw with a curl line to reproduce it.
    failures = report.distinct_failures()
    assert not failures, "\n" + report.summary()
