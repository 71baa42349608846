"""The dispatcher in this process, through the real flow engine and the fake provider over HTTP.

Worker-process behaviour (concurrency, crashes, shared limits) is in test_dispatch_workers.py.
"""

from datetime import time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import CampaignLog, Execution, Recipient
from campaigns.sending import batch, dispatch
from campaigns.services import controls, starting
from flows.specs import flow_spec
from instances.services import set_connection_state
from tests.factories.campaigns import CampaignFactory, make_evolution_instance, make_flow
from tests.factories.contacts import ContactFactory

SEND = r"^/message/sendText/"


@pytest.fixture
def evolution(org_a, fake_provider):
    return make_evolution_instance(org_a, fake_provider.url)


def start(campaign, **kwargs):
    return starting.start_campaign(campaign=campaign, **kwargs)


def numbers(server):
    return [r.json["number"] for r in server.requests_to(SEND)]


def test_it_sends_each_recipient_once_with_its_variables(org_a, evolution, fake_provider):
    contacts = [ContactFactory(organization=org_a, name=f"Ana {i}") for i in range(5)]
    campaign = CampaignFactory(organization=org_a, instances=[evolution])
    execution = start(campaign)

    assert dispatch.run(execution.id) == "done"

    sent = numbers(fake_provider)
    assert sorted(sent) == sorted(c.phone.lstrip("+") for c in contacts)
    texts = {r.json["number"]: r.json["text"] for r in fake_provider.requests_to(SEND)}
    assert texts[contacts[0].phone.lstrip("+")] == "Olá Ana 0, seu desconto é 10%"
    recipients = Recipient.objects.filter(execution=execution)
    assert set(recipients.values_list("status", flat=True)) == {"sent"}
    ids = {r.json["number"]: None for r in fake_provider.requests_to(SEND)}
    assert len(ids) == 5 and all(r.provider_message_id.startswith("3EB0") for r in recipients)
    assert all(r.conversation_id and r.instance_id == evolution.id for r in recipients)
    execution.refresh_from_db()
    campaign.refresh_from_db()
    assert execution.status == "completed" and execution.stats["sent"] == 5
    assert campaign.total_sent == 5 and campaign.total_executions == 1 and campaign.status == "completed"


def test_a_5xx_is_retried_later_and_then_sent(org_a, evolution, fake_provider):
    contact = ContactFactory(organization=org_a)
    fake_provider.respond("POST", SEND, status=503, json={"error": "busy"}, times=1)
    execution = start(CampaignFactory(organization=org_a, instances=[evolution]))

    outcome = dispatch.run(execution.id)

    recipient = Recipient.objects.get(execution=execution)
    assert outcome.startswith("later:") and recipient.status == "pending" and recipient.retry_count == 1
    assert recipient.next_attempt_at > timezone.now()
    first_claim = recipient.started_at
    assert first_claim is not None and recipient.last_retry_at is None
    later = timezone.now() + timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        assert dispatch.run(execution.id) == "done"
    recipient.refresh_from_db()
    assert recipient.status == "sent"
    assert recipient.started_at == first_claim and recipient.last_retry_at >= later - timedelta(seconds=1)
    assert numbers(fake_provider) == [contact.phone.lstrip("+")] * 2


def test_a_400_fails_once_and_is_not_retried(org_a, evolution, fake_provider):
    ContactFactory(organization=org_a)
    fake_provider.respond("POST", SEND, status=400, json={"status": 400, "response": {"message": ["bad"]}})
    execution = start(CampaignFactory(organization=org_a, instances=[evolution]))

    assert dispatch.run(execution.id) == "done"
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        dispatch.sweep()

    recipient = Recipient.objects.get(execution=execution)
    assert recipient.status == "failed" and recipient.error
    assert len(numbers(fake_provider)) == 1
    assert CampaignLog.objects.filter(execution=execution, type="message_failed").count() == 1


def test_an_opt_out_after_the_claim_stops_the_send(org_a, evolution):
    contact = ContactFactory(organization=org_a)
    execution = start(CampaignFactory(organization=org_a, instances=[evolution]))
    calls = []
    [recipient] = dispatch.claim(execution_id=execution.id, size=10, at=timezone.now())
    contact.mark_opted_out(reason="SAIR", source="keyword:SAIR")

    outcome = batch.send_one(
        recipient,
        campaign=execution.campaign,
        execution=execution,
        instance=evolution,
        start=lambda **kw: calls.append(kw),
    )

    assert outcome == "opted_out" and calls == []
    recipient.refresh_from_db()
    assert recipient.status == "opted_out"


def test_an_opt_out_during_a_batch_stops_a_later_send_of_it(org_a, evolution, fake_provider, monkeypatch):
    monkeypatch.setattr(batch, "RECHECK_SECONDS", -1)  # as if every send came after a slow one
    first, leaver, last = [ContactFactory(organization=org_a) for _ in range(3)]
    execution = start(CampaignFactory(organization=org_a, instances=[evolution]))

    def start_then_opt_out(**kwargs):
        if kwargs["contact"].id == first.id:
            leaver.mark_opted_out(reason="SAIR", source="keyword:SAIR")
        return batch.default_start(**kwargs)

    assert dispatch.run(execution.id, start=start_then_opt_out) == "done"

    assert sorted(numbers(fake_provider)) == sorted(c.phone.lstrip("+") for c in (first, last))
    status = dict(Recipient.objects.filter(execution=execution).values_list("contact_id", "status"))
    assert status == {first.id: "sent", leaver.id: "opted_out", last.id: "sent"}


def test_a_batch_is_checked_and_recorded_with_few_queries(org_a, evolution, fake_provider, settings, monkeypatch):
    settings.CAMPAIGNS_BATCH_SIZE = 20
    # One heartbeat, one re-check and one record per batch, however slow the machine: on a loaded
    # one the 0.1 s re-check and record deadlines pass mid-batch and add queries that are not per-recipient.
    monkeypatch.setattr(dispatch, "HEARTBEAT_SECONDS", 3600.0)
    monkeypatch.setattr(batch, "RECHECK_SECONDS", 3600.0)
    monkeypatch.setattr(batch, "RECORD_SECONDS", 3600.0)
    for _ in range(40):
        ContactFactory(organization=org_a)
    campaign = CampaignFactory(organization=org_a, instances=[evolution])
    execution = start(campaign)
    flow_spec(campaign.flow)  # cached per process, as in a worker that has sent before

    with CaptureQueriesContext(connection) as queries:
        assert dispatch.run(execution.id) == "done"

    assert Recipient.objects.filter(execution=execution, status="sent").count() == 40
    assert len(numbers(fake_provider)) == 40
    # Per recipient only the mark before its request (one conditional UPDATE) and the flows'
    # completion signal (its receiver's UPDATE); the rest is per batch, and once the limiter's
    # rebuild of the number's count of the day, which this test's empty Redis does not hold.
    assert len(queries) <= 2 * 40 + 2 * 20 + 4, [q["sql"][:80] for q in queries]
    assert len([q for q in queries if "attempted_at" in q["sql"] and q["sql"].startswith("SELECT")]) <= 4
    marks = [q for q in queries if "attempted_at" in q["sql"] and q["sql"].startswith("UPDATE")]
    assert len(marks) == 40 + 2  # one per recipient, and each claim clears the last one


def test_sends_whose_store_failed_become_unknown_and_are_not_resent(org_a, evolution, fake_provider, monkeypatch):
    for _ in range(3):
        ContactFactory(organization=org_a)
    execution = start(CampaignFactory(organization=org_a, instances=[evolution]))

    def broken_store(starts):
        raise RuntimeError("database went away")

    monkeypatch.setattr("flows.starting.store_starts", broken_store)
    assert dispatch.run(execution.id) == "done"

    assert len(numbers(fake_provider)) == 3
    recipients = Recipient.objects.filter(execution=execution)
    assert set(recipients.values_list("status", flat=True)) == {"unknown"}
    assert CampaignLog.objects.filter(execution=execution, type="message_unknown").count() == 3


def test_an_expired_lease_of_an_attempted_send_becomes_unknown_and_is_never_resent(org_a, evolution, fake_provider):
    ContactFactory(organization=org_a)
    execution = start(CampaignFactory(organization=org_a, instances=[evolution]))
    Execution.objects.filter(id=execution.id).update(status="running")
    [recipient] = dispatch.claim(execution_id=execution.id, size=10, at=timezone.now())
    Recipient.objects.filter(id=recipient.id).update(attempted_at=timezone.now())  # then the worker "dies"

    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        result = dispatch.sweep()  # also finalizes: nothing is pending or sending any more
        dispatch.run(execution.id)

    recipient.refresh_from_db()
    execution.refresh_from_db()
    assert result["expired"] == 1 and result["finalized"] == 1 and recipient.status == "unknown"
    assert numbers(fake_provider) == []
    assert execution.status == "completed"


def test_outside_the_window_it_waits_and_resumes_at_the_next_opening(org_a, evolution, fake_provider):
    ContactFactory(organization=org_a)
    campaign = CampaignFactory(
        organization=org_a,
        instances=[evolution],
        time_zone="America/Sao_Paulo",
        execution_window_start=time(9),
        execution_window_end=time(18),
    )
    with time_machine.travel("2025-03-10 22:00 -03:00", tick=False):
        execution = start(campaign)
        assert dispatch.run(execution.id) == "waiting"
    execution.refresh_from_db()
    assert execution.status == "running" and execution.waiting_until.isoformat() == "2025-03-11T12:00:00+00:00"
    assert numbers(fake_provider) == []

    with time_machine.travel("2025-03-11 09:00:01 -03:00", tick=False):
        dispatch.sweep()
        assert dispatch.run(execution.id) == "done"
    assert len(numbers(fake_provider)) == 1


def test_the_warm_up_ladder_caps_young_numbers(org_a, evolution):
    from campaigns.limits import daily_cap

    now = timezone.now()
    caps = [
        daily_cap(evolution, now) for evolution.created_at in (now - timedelta(days=d) for d in (0, 2, 5, 10, 20, 30))
    ]
    assert caps == [40, 80, 150, 300, 600, 0]


def test_a_daily_cap_waits_for_the_next_day(org_a, evolution, fake_provider, settings):
    settings.CAMPAIGNS_WARMUP_LADDER = []
    settings.CAMPAIGNS_INSTANCE_DAILY_CAP = 2
    for _ in range(3):
        ContactFactory(organization=org_a)
    with time_machine.travel("2025-03-10 10:00 -03:00", tick=False):
        execution = start(CampaignFactory(organization=org_a, instances=[evolution]))
        assert dispatch.run(execution.id) == "waiting"
    assert len(numbers(fake_provider)) == 2
    assert Recipient.objects.filter(execution=execution, status="pending").count() == 1

    with time_machine.travel("2025-03-11 00:00:05 -03:00", tick=False):
        dispatch.sweep()
        assert dispatch.run(execution.id) == "done"
    assert len(numbers(fake_provider)) == 3


def test_cancel_skips_the_pending(org_a, evolution):
    for _ in range(3):
        ContactFactory(organization=org_a)
    execution = start(CampaignFactory(organization=org_a, instances=[evolution]))

    assert controls.cancel_execution(execution=execution) == 3
    assert dispatch.run(execution.id) == "stopped"
    assert set(Recipient.objects.filter(execution=execution).values_list("status", flat=True)) == {"skipped"}


def test_a_disconnected_number_pauses_and_its_return_resumes(org_a, evolution, django_capture_on_commit_callbacks):
    ContactFactory(organization=org_a)
    execution = start(CampaignFactory(organization=org_a, instances=[evolution]))

    with django_capture_on_commit_callbacks(execute=True):
        set_connection_state(instance=evolution, state="close", reason="logged out")
    execution.refresh_from_db()
    assert execution.status == "paused" and execution.pause_reason == "instance_disconnected"
    assert CampaignLog.objects.filter(execution=execution, type="instance_disconnected", severity="critical").exists()

    with django_capture_on_commit_callbacks(execute=False):
        set_connection_state(instance=evolution, state="open", reason="scanned")
        # the signal goes out after commit
    with django_capture_on_commit_callbacks(execute=True):
        controls.instance_connection_changed(instance=evolution, new_state="open")
    execution.refresh_from_db()
    assert execution.status == "running"


def test_requeue_sends_unknown_again_only_when_asked(org_a, evolution, fake_provider):
    ContactFactory(organization=org_a)
    execution = start(CampaignFactory(organization=org_a, instances=[evolution]))
    fake_provider.respond("POST", SEND, close=True, times=1)  # connection dropped after the request: ambiguous
    dispatch.run(execution.id)
    recipient = Recipient.objects.get(execution=execution)
    assert recipient.status == "unknown"

    assert controls.requeue_recipients(execution=execution) == 1
    assert dispatch.run(execution.id) == "done"
    recipient.refresh_from_db()
    assert recipient.status == "sent" and len(numbers(fake_provider)) == 2


def test_a_flow_that_ends_with_its_first_message_completes_the_recipient(org_a, evolution, fake_provider):
    ContactFactory.create_batch(3, organization=org_a)
    flow = make_flow(org_a, "Obrigado por comprar conosco!", wait_for_reply=False)
    campaign = CampaignFactory(organization=org_a, flow=flow, template=flow.template, instances=[evolution])
    execution = start(campaign)

    assert dispatch.run(execution.id) == "done"

    recipients = Recipient.objects.filter(execution=execution)
    assert set(recipients.values_list("status", flat=True)) == {"completed"}
    assert all(r.sent_at and r.completed_at and r.provider_message_id for r in recipients)
    assert all(r.conversation.status == "completed" for r in recipients)
    assert len(fake_provider.requests_to(SEND)) == 3
