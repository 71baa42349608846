"""The endpoint under concurrent requests, on PostgreSQL in autocommit as in production.

The requests a web process serves at once share one statement (group commit); each is
still answered for itself, and only once its own event is committed. A connection the
database dropped is opened again; an event that could not be stored is a 503 that loses
nothing, since Evolution posts it again.
"""

import threading
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from campaigns.models import Recipient
from webhooks.evolution import intake, queue
from webhooks.models import WebhookEvent

from .conftest import load, post

pytestmark = pytest.mark.django_db(transaction=True)

DELIVERED = "v2/messages_update_delivered.json"
READ = "v2/messages_update_read.json"
DELETED = "v2/messages_delete.json"


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def post_in_thread(answers, name, *args, **kwargs):
    def run():
        try:
            answers[name] = post(*args, **kwargs)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def other_connection():
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        autocommit=True,
    )


class Asks:
    count = 0

    def ask(self):
        self.count += 1


@pytest.fixture
def wakes(monkeypatch):
    """How often the process's drain waker was asked for an attempt (tests/webhooks/test_wakeup.py)."""
    asks = Asks()
    monkeypatch.setattr(intake, "_drain_waker", asks)
    return asks


@pytest.fixture
def batch_sizes(monkeypatch):
    """The first batch's statement waits until five more requests queue behind it."""
    real, sizes = intake.store_posted, []

    def store_posted(events):
        sizes.append(len(events))
        if len(sizes) == 1:
            wait_until(lambda: len(intake._posted_batches._queue) >= 5)
        return real(events)

    monkeypatch.setattr(intake, "store_posted", store_posted)
    return sizes


def test_requests_in_flight_together_share_one_statement_and_each_is_answered_for_itself(
    instance, recipient, batch_sizes, wakes
):
    answers = {}
    threads = [post_in_thread(answers, "deleted", instance, load(DELETED))]
    wait_until(lambda: batch_sizes)  # it leads, and holds its statement
    repeat = load(DELIVERED) | {"destination": "https://global-webhook.example.com/"}
    threads += [
        post_in_thread(answers, "delivered", instance, load(DELIVERED)),
        post_in_thread(answers, "delivered again", instance, repeat),
        post_in_thread(answers, "read", instance, load(READ)),
        post_in_thread(answers, "bad secret", instance, load(READ), path="/api/webhooks/evolution/wrong-secret-000/"),
        post_in_thread(answers, "stranger", instance, load(READ) | {"instance": "someone-else"}),
    ]
    for thread in threads:
        thread.join(timeout=30)

    assert batch_sizes == [1, 5]
    status = {name: (response.status_code, response.json()["status"]) for name, response in answers.items()}
    assert status["bad secret"] == (401, "error") and status["stranger"] == (404, "error")
    assert status["deleted"] == status["read"] == (200, "accepted")
    # The same event twice in one batch: one row, one of them is told it is a duplicate.
    assert sorted([status["delivered"], status["delivered again"]]) == [(200, "accepted"), (200, "duplicate")]
    accepted = {name: r.json()["event_id"] for name, r in answers.items() if r.json()["status"] == "accepted"}
    assert set(WebhookEvent.objects.values_list("id", flat=True)) == set(accepted.values())
    assert wakes.count == 2  # once a batch that stored something

    assert queue.drain() == 3
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.READ


def test_the_statement_is_prepared_once_per_connection_and_reused(instance, recipient, wakes):
    for payload in (load(DELIVERED), load(READ), load(DELETED)):
        assert post(instance, payload).json()["status"] == "accepted"

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%INSERT INTO " + connection.ops.quote_name(WebhookEvent._meta.db_table) + "%"],
        )
        executions = [row[0] for row in cursor.fetchall()]
    assert executions == [3]  # parsed and planned once, run three times


def test_a_connection_the_database_dropped_is_opened_again(instance, recipient, wakes):
    assert post(instance, load(DELIVERED)).json()["status"] == "accepted"
    with other_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])

    response = post(instance, load(READ))

    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert WebhookEvent.objects.count() == 2


def test_an_event_that_cannot_be_stored_now_is_a_503_and_its_retry_is_taken(instance, recipient, wakes):
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")
    try:
        with other_connection() as locker:
            with locker.transaction():
                locker.execute(f"LOCK TABLE {WebhookEvent._meta.db_table} IN ACCESS EXCLUSIVE MODE")
                refused = post(instance, load(DELIVERED))
            retried = post(instance, load(DELIVERED))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    assert refused.status_code == 503
    assert refused.json()["error"] == "The event could not be stored; try again"
    assert retried.status_code == 200 and retried.json()["status"] == "accepted"
    assert WebhookEvent.objects.count() == 1
