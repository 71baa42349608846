"""Metrics and JSON logs through a real Celery worker process (multiprocess mode, ids carried).

A campaign started through the API with an `X-Request-ID` is sent by the worker; Evolution's
statuses come back through the endpoint and the worker's drainer applies them; a task that
raises is counted. /metrics, served by this process, shows what the worker counted (its
files in PROMETHEUS_MULTIPROC_DIR), and every line the worker wrote is JSON that carries the
request's id and the campaign's.
"""

import json

import pytest
from django.test import Client

from campaigns.models import Execution, Recipient
from campaigns.tasks import dispatch_execution
from tests.factories.campaigns import CampaignFactory, make_evolution_instance
from tests.factories.contacts import ContactFactory
from tests.support.fakes.provider_server import evolution_send_answer
from tests.support.metrics import TOKEN, scrape, value
from tests.support.workers import Workers, publish_under_test_prefix, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
SEND = r"^/message/sendText/"
# As `make run` does: this machine runs the worker as root (production must not: docs/operations.md).
ROOT_WARNING_OFF = "ignore:You're running the worker with superuser privileges:UserWarning"


@pytest.fixture
def worker(request, settings, tmp_path):
    if not settings.REDIS_URL or "postgres" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("worker tests run on PostgreSQL and Redis")
    settings.METRICS_TOKEN = TOKEN
    publish_under_test_prefix()
    log = (tmp_path / "worker.log").open("w")
    pool = Workers(1, env={"LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "PYTHONWARNINGS": ROOT_WARNING_OFF}, stderr=log)
    request.addfinalizer(pool.stop)
    pool.start()
    pool.log_path = tmp_path / "worker.log"
    # At start the worker drops the metrics files of processes that are gone (a restart starts
    # from zero); one failing task proves it has, so the test's "before" is taken after that.
    dispatch_execution.delay("warm-up")

    def warmed_up():
        """the worker to fail its warm-up task"""
        return "warm-up" in pool.log_path.read_text()

    wait_for(warmed_up, timeout=60)
    return pool


def test_a_campaign_through_a_worker_moves_the_metrics_and_logs_its_ids(org_a, alice_client, fake_provider, worker):
    sends = []

    def answer(request):
        status, body = evolution_send_answer(request, "loja-sp")
        sends.append(body["key"]["id"])
        return status, body

    fake_provider.respond("POST", SEND, handler=answer)
    instance = make_evolution_instance(org_a, fake_provider.url)
    for _ in range(3):
        ContactFactory(organization=org_a)
    campaign = CampaignFactory(organization=org_a, instances=[instance])
    before = scrape()

    started = alice_client.post(
        f"/api/v1/flow-automations/{campaign.id}/start", {}, format="json", headers={"X-Request-ID": "req-ops-42"}
    )
    assert started.status_code == 202, started.content
    assert started["X-Request-ID"] == "req-ops-42"
    execution = Execution.objects.get(campaign=campaign)

    def sent():
        """the three sends"""
        return Recipient.objects.filter(execution=execution, status="sent").count() == 3

    wait_for(sent, timeout=60)
    for message_id in sends:
        payload = {
            "event": "messages.update",
            "instance": "loja-sp",
            "data": {"keyId": message_id, "fromMe": True, "status": "DELIVERY_ACK"},
            "date_time": "2025-03-14T10:21:07.512Z",
        }
        response = Client().post(
            f"/api/webhooks/evolution/{instance.webhook_secret}/", json.dumps(payload), content_type="application/json"
        )
        assert response.json()["status"] == "accepted"

    def delivered():
        """the worker's drainer to apply the statuses"""
        return Recipient.objects.filter(execution=execution, status="delivered").count() == 3

    wait_for(delivered, timeout=60)
    dispatch_execution.delay("not-an-id")  # raises in the worker
    failed = {"task": "campaigns.tasks.dispatch_execution"}

    def failure_counted():
        """the worker's task failure in /metrics"""
        return value(scrape(), "whatsflow_celery_task_failures_total", **failed) > value(
            before, "whatsflow_celery_task_failures_total", **failed
        )

    wait_for(failure_counted, timeout=30)
    after = scrape()

    def grew(name, by, **labels):
        assert value(after, name, **labels) - value(before, name, **labels) == by, (name, labels)

    grew("whatsflow_sends_total", 3, provider="evolution", outcome="ok")
    grew("whatsflow_provider_call_seconds_count", 3, provider="evolution", operation="send_text", outcome="ok")
    grew("whatsflow_webhooks_received_total", 3, provider="evolution", answer="accepted")
    grew("whatsflow_webhook_intake_seconds_count", 3, provider="evolution")
    grew("whatsflow_webhook_lag_seconds_count", 3, provider="evolution")
    grew("whatsflow_webhook_events_total", 3, event="messages.update", result="delivered")
    grew("whatsflow_webhook_drain_seconds_count", 3, event="messages.update")
    grew("whatsflow_celery_task_failures_total", 1, **failed)
    assert (
        value(
            after, "whatsflow_instance_connection_state", instance=str(instance.id), provider="evolution", state="open"
        )
        == 1
    )

    worker.stop()
    lines = [line for line in worker.log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line the worker wrote is one JSON object
    calls = [r for r in records if r.get("logger") == "instances.services" and "provider call" in r["message"]]
    assert len(calls) == 3
    for record in calls:
        assert record["request_id"] == "req-ops-42"
        assert record["organization_id"] == org_a.id
        assert record["campaign_id"] == campaign.id
        assert record["execution_id"] == execution.id
        assert record["instance_id"] == instance.id
        assert record["level"] == "INFO" and record["time"].endswith("Z")
    assert any(r["level"] == "ERROR" and "not-an-id" in json.dumps(r) for r in records)
