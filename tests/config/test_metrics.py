"""/metrics: who may scrape it, and what it shows after a campaign (in-process parts)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.metrics import due_recipients
from campaigns.models import Execution, Recipient
from tests.factories.campaigns import ExecutionFactory, make_evolution_instance
from tests.factories.contacts import ContactFactory
from tests.support.metrics import TOKEN, scrape, value

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []


def test_metrics_refuse_a_caller_without_the_token_or_an_allowed_address(settings):
    assert Client().get("/metrics").status_code == 403
    assert Client().get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


def test_metrics_answer_the_token_and_the_allowed_networks(settings):
    response = Client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert b"whatsflow_due_recipients" in response.content
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.168.0.9").get("/metrics").status_code == 403


def test_due_recipients_counts_due_pending_of_running_executions_up_to_the_cap(org_a):
    running = ExecutionFactory(organization=org_a, status=Execution.Status.RUNNING)
    paused = ExecutionFactory(organization=org_a, status=Execution.Status.PAUSED)
    later = timezone.now() + timedelta(hours=1)
    for _ in range(5):
        contact = ContactFactory(organization=org_a)
        Recipient.objects.create(execution=running, contact=contact, phone=contact.phone)
        Recipient.objects.create(execution=paused, contact=contact, phone=contact.phone)
    contact = ContactFactory(organization=org_a)
    Recipient.objects.create(execution=running, contact=contact, phone=contact.phone, next_attempt_at=later)

    assert due_recipients() == 5
    assert due_recipients(cap=3) == 3
    samples = scrape()
    assert value(samples, "whatsflow_due_recipients") == 5
    assert value(samples, "whatsflow_executions", status="running") == 1
    assert value(samples, "whatsflow_executions", status="paused") == 1


def test_instances_show_their_health_and_connection_state(org_a):
    instance = make_evolution_instance(org_a, "http://127.0.0.1:9")
    samples = scrape()
    labels = {"instance": str(instance.id), "provider": "evolution"}
    assert value(samples, "whatsflow_instance_health", **labels) == instance.health_score
    assert value(samples, "whatsflow_instance_connection_state", **labels, state="open") == 1
    assert value(samples, "whatsflow_instance_connection_state", **labels, state="close") == 0


def test_a_provider_call_is_counted_by_outcome_and_timed(org_a, fake_provider):
    from instances.providers.base import ProviderRejected
    from instances.services import send_text

    instance = make_evolution_instance(org_a, fake_provider.url)
    before = scrape()
    send_text(instance=instance, phone="+5511999990001", text="Oi")
    fake_provider.respond("POST", r"^/message/sendText/", status=400, json={"response": {"message": "bad"}})
    with pytest.raises(ProviderRejected):
        send_text(instance=instance, phone="+5511999990002", text="Oi")
    after = scrape()

    for outcome in ("ok", "rejected"):
        labels = {"provider": "evolution", "outcome": outcome}
        assert value(after, "whatsflow_sends_total", **labels) == value(before, "whatsflow_sends_total", **labels) + 1
    timed = {"provider": "evolution", "operation": "send_text", "outcome": "ok"}
    name = "whatsflow_provider_call_seconds_count"
    assert value(after, name, **timed) == value(before, name, **timed) + 1


def test_gosac_webhooks_are_counted_by_answer(org_a):
    from tests.factories.instances import GosacInstanceFactory

    instance = GosacInstanceFactory(organization=org_a)
    before = scrape()
    url = f"/api/webhooks/gosac/{instance.webhook_secret}/"
    assert Client().post(url, "not json", content_type="application/json").status_code == 400
    unknown = Client().post("/api/webhooks/gosac/unknown-secret/", "{}", content_type="application/json")
    assert unknown.status_code == 404
    after = scrape()
    for answer in ("400", "404"):
        name, labels = "whatsflow_webhooks_received_total", {"provider": "gosac", "answer": answer}
        assert value(after, name, **labels) == value(before, name, **labels) + 1
    name = "whatsflow_webhook_intake_seconds_count"
    assert value(after, name, provider="gosac") == value(before, name, provider="gosac") + 2


def test_schedule_runs_are_counted_by_outcome(org_a):
    import time_machine

    from campaigns.schedules import services
    from campaigns.tasks import run_due_schedules
    from tests.factories.campaigns import CampaignFactory

    ContactFactory(organization=org_a)
    campaign = CampaignFactory(organization=org_a, max_concurrent_executions=5)
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False) as clock:
        body = {
            "recurrence_type": "daily",
            "start_date": "2025-11-01",
            "start_time": "09:00:00",
            "catchup_window": 3600,
        }
        services.create_schedule(campaign=campaign, data=body)
        clock.move_to("2025-11-05T12:10:00Z")  # the 3rd and 4th were missed, the 5th is 10 minutes late
        before = scrape()
        run_due_schedules(fan_out=False)
        after = scrape()

    def grew(status):
        name = "whatsflow_schedule_runs_total"
        return value(after, name, status=status) - value(before, name, status=status)

    assert (grew("started"), grew("missed"), grew("skipped")) == (1, 2, 0)
