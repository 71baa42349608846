"""Debounce of bursts and concurrency of one contact's messages (real Redis and PostgreSQL)."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from flows import engine, inbound, tasks
from flows.models import Conversation, MessageHistory, ReceivedFile, SystemSetting
from tests.factories.contacts import ContactFactory
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.factories.instances import WhatsAppInstanceFactory


@pytest.fixture
def queued(monkeypatch):
    """The burst tasks queued (the worker side is called by the test, at the moved time)."""
    calls = []
    lock = threading.Lock()

    def record(args, countdown=None, **kwargs):
        with lock:
            calls.append((args, countdown))

    monkeypatch.setattr(tasks.process_burst, "apply_async", record)
    return calls


@pytest.fixture
def setup(org_a, fake_provider):
    SystemSetting.objects.create(organization=org_a, key="DEBOUNCE_TIME", value="2000", value_type="number")
    SystemSetting.objects.create(organization=org_a, key="MESSAGE_COOLDOWN", value="0", value_type="number")
    subflow = SubflowFactory(flow=flow_for(org_a, is_default=True))
    FlowMessageFactory(subflow=subflow, order_index=0, text="Olá!")
    FlowMessageFactory(subflow=subflow, order_index=1, text="Qual seu nome?", wait_for_response=True, variable_name="n")
    FlowMessageFactory(subflow=subflow, order_index=2, text="Prazer, {{n}}.", wait_for_response=True)
    instance = WhatsAppInstanceFactory(organization=org_a, provider="gosac", base_url=fake_provider.url)
    contact = ContactFactory(organization=org_a, phone="+5511988887777")
    return instance, contact


def say(instance, contact, text):
    return inbound.handle_inbound_message(instance=instance, contact=contact, text=text)


def texts(fake_provider):
    return [r.json["message"] for r in fake_provider.requests_to(r"^/send-message$")]


@pytest.mark.django_db
def test_a_burst_is_handled_together_once_the_contact_pauses(setup, queued, fake_provider):
    instance, contact = setup
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        say(instance, contact, "Oi")
        assert inbound.process_when_quiet(instance_id=instance.id, contact_id=contact.id) == "waiting"
    with time_machine.travel(start + timedelta(seconds=3), tick=False):
        assert inbound.process_when_quiet(instance_id=instance.id, contact_id=contact.id) == "started"
    assert texts(fake_provider) == ["Olá!", "Qual seu nome?"]

    # Three messages 0.8 s apart: one task, which waits until 2 s after the last one.
    burst_start = start + timedelta(seconds=10)
    before = len(queued)
    for i, part in enumerate(["Meu nome", "é Maria", "Souza"]):
        with time_machine.travel(burst_start + timedelta(seconds=0.8 * i), tick=False):
            say(instance, contact, part)
    assert len(queued) == before + 1
    assert queued[-1][1] == 2.0
    with time_machine.travel(burst_start + timedelta(seconds=2.5), tick=False):
        assert inbound.process_when_quiet(instance_id=instance.id, contact_id=contact.id) == "waiting"
    assert queued[-1][1] == pytest.approx(1.1)
    with time_machine.travel(burst_start + timedelta(seconds=3.7), tick=False):
        assert inbound.process_when_quiet(instance_id=instance.id, contact_id=contact.id) == "next"

    assert texts(fake_provider) == ["Olá!", "Qual seu nome?", "Prazer, Meu nome\né Maria\nSouza."]
    conversation = Conversation.objects.get()
    assert not MessageHistory.objects.filter(direction="in", processed_at__isnull=True).exists()
    assert MessageHistory.objects.filter(direction="in", conversation=conversation).count() == 4

    # The burst is over: the next message queues a task of its own.
    with time_machine.travel(burst_start + timedelta(seconds=20), tick=False):
        say(instance, contact, "Obrigada")
    assert len(queued) == before + 3  # the burst's task, its re-queue, and this one


@pytest.mark.django_db
def test_a_message_arriving_while_a_burst_is_processed_is_not_lost(setup, queued, fake_provider):
    instance, contact = setup
    say(instance, contact, "Oi")
    inbound.process_burst(instance_id=instance.id, contact_id=contact.id)
    say(instance, contact, "Maria")  # after the burst took its rows
    assert MessageHistory.objects.filter(direction="in", processed_at__isnull=True).count() == 1

    with time_machine.travel(timezone.now() + timedelta(seconds=inbound.STALE_AFTER_SECONDS + 1), tick=False):
        assert inbound.process_stale() == 1
    assert texts(fake_provider)[-1] == "Prazer, Maria."


@pytest.mark.django_db
def test_cooldown_holds_the_next_reply_back(org_a, setup, queued, fake_provider):
    instance, contact = setup
    SystemSetting.objects.filter(key="MESSAGE_COOLDOWN").update(value="5")
    say(instance, contact, "Oi")
    inbound.process_burst(instance_id=instance.id, contact_id=contact.id)
    say(instance, contact, "Maria")
    inbound.process_burst(instance_id=instance.id, contact_id=contact.id)
    assert texts(fake_provider) == ["Olá!", "Qual seu nome?"]  # within 5 s of the last reply

    from flows.sending import send_due

    with time_machine.travel(timezone.now() + timedelta(seconds=6), tick=False):
        assert send_due() == 1
    assert texts(fake_provider)[-1] == "Prazer, Maria."


@pytest.mark.django_db(transaction=True)
def test_concurrent_messages_of_one_contact_never_start_two_conversations(setup, queued, fake_provider):
    instance, contact = setup
    barrier = threading.Barrier(4)
    errors = []

    def worker(i):
        try:
            say(instance, contact, f"oi {i}")
            barrier.wait(timeout=10)
            inbound.process_burst(instance_id=instance.id, contact_id=contact.id)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert Conversation.objects.count() == 1
    assert Conversation.objects.filter(status="active").count() == 1
    assert not MessageHistory.objects.filter(direction="in", processed_at__isnull=True).exists()
    assert texts(fake_provider).count("Olá!") == 1


@pytest.mark.django_db
def test_a_file_no_step_waits_for_is_kept_as_a_received_file(setup, queued, fake_provider, settings, alice_client):
    settings.FLOWS_DOWNLOAD_FILES = False
    instance, contact = setup
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        say(instance, contact, "Oi")
    with time_machine.travel(start + timedelta(seconds=3), tick=False):
        inbound.process_when_quiet(instance_id=instance.id, contact_id=contact.id)
    media = engine.Media(url="https://files.example.com/boleto.pdf", path="", mimetype="application/pdf", filename="")
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        inbound.handle_inbound_message(instance=instance, contact=contact, text="", media=media)
    with time_machine.travel(start + timedelta(seconds=13), tick=False):
        inbound.process_when_quiet(instance_id=instance.id, contact_id=contact.id)

    received = ReceivedFile.objects.get()
    assert (received.contact_id, received.conversation_id, received.flow_message_id) == (
        contact.id,
        Conversation.objects.get().id,
        None,
    )
    assert (received.original_name, received.file_type, received.processed) == ("boleto.pdf", "application/pdf", True)
    files = alice_client.get("/api/v1/analytics/files").json()["files_by_type"]
    assert [(row["file_type"], row["count"]) for row in files] == [("application/pdf", 1)]
