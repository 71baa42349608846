"""The sandbox: sends become rows, and with playback on their life comes back as webhooks."""

import random

import pytest
from django.core.exceptions import ValidationError

from config.celery import app as celery_app
from instances.models import SandboxMessage, WhatsAppInstance
from instances.providers import sandbox
from instances.services import send_media, send_text
from tests.factories.instances import SandboxMessageFactory, WhatsAppInstanceFactory
from tests.support.instances import flushed

pytestmark = pytest.mark.django_db

SINK = "tests.instances.providers.test_sandbox.collect"
received: list[dict] = []


def collect(payload: dict) -> None:
    received.append(payload)


@pytest.fixture(autouse=True)
def sink(settings):
    settings.SANDBOX_EVENT_SINK = SINK
    received.clear()
    yield received
    received.clear()


@pytest.fixture
def eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def sandbox_instance(org, **playback):
    return WhatsAppInstanceFactory(
        organization=org,
        instance_name="sandbox-loja",
        phone_number="+5511988887777",
        connection_state=WhatsAppInstance.ConnectionState.OPEN,
        sandbox_config={"playback": bool(playback), **playback},
    )


def test_a_send_is_recorded_and_answered_with_a_generated_id(org_a, django_capture_on_commit_callbacks):
    instance = sandbox_instance(org_a)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = send_text(instance=instance, phone="+5511999999999", text="Olá")

    message = SandboxMessage.objects.get(provider_message_id=result.provider_message_id)
    assert (message.instance_id, message.organization_id, message.to_phone, message.text) == (
        instance.id,
        org_a.id,
        "+5511999999999",
        "Olá",
    )
    assert message.simulated_status == SandboxMessage.Status.SENT
    assert result.accepted_at == message.created_at
    assert callbacks == [], "no playback unless the instance asks for it"
    assert flushed(instance).sent_today == 1


def test_a_media_send_keeps_the_link_and_file(org_a):
    instance = sandbox_instance(org_a)

    result = send_media(
        instance=instance,
        phone="+5511999999999",
        url="https://cdn.example.com/a.pdf",
        caption="Boleto",
        filename="a.pdf",
        mimetype="application/pdf",
    )

    message = SandboxMessage.objects.get(provider_message_id=result.provider_message_id)
    assert (message.media_url, message.text, message.filename, message.mimetype) == (
        "https://cdn.example.com/a.pdf",
        "Boleto",
        "a.pdf",
        "application/pdf",
    )


def test_playback_delivers_reads_and_replies_through_the_sink(org_a, eager_celery, django_capture_on_commit_callbacks):
    instance = sandbox_instance(
        org_a,
        failure_probability=0,
        delivery_probability=1,
        read_probability=1,
        reply_probability=1,
        reply_text="Quero",
    )

    with django_capture_on_commit_callbacks(execute=True):
        result = send_text(instance=instance, phone="+5511999999999", text="Olá")

    assert [(p["event"], p["data"].get("status")) for p in received] == [
        ("messages.update", "DELIVERY_ACK"),
        ("messages.update", "READ"),
        ("messages.upsert", "DELIVERY_ACK"),
    ]
    update = received[0]
    assert update["instance"] == "sandbox-loja"
    assert update["sender"] == "5511988887777@s.whatsapp.net"
    assert update["data"]["keyId"] == result.provider_message_id
    assert (update["data"]["remoteJid"], update["data"]["fromMe"]) == ("5511999999999@s.whatsapp.net", True)
    reply = received[2]["data"]
    assert reply["key"]["fromMe"] is False
    assert reply["key"]["remoteJid"] == "5511999999999@s.whatsapp.net"
    assert reply["message"] == {"conversation": "Quero"}
    message = SandboxMessage.objects.get(provider_message_id=result.provider_message_id)
    assert message.simulated_status == SandboxMessage.Status.READ
    assert message.replied_at is not None


def test_playback_can_fail_a_message(org_a, eager_celery, django_capture_on_commit_callbacks):
    instance = sandbox_instance(org_a, failure_probability=1)

    with django_capture_on_commit_callbacks(execute=True):
        result = send_text(instance=instance, phone="+5511999999999", text="Olá")

    assert [p["data"]["status"] for p in received] == ["ERROR"]
    assert SandboxMessage.objects.get(provider_message_id=result.provider_message_id).simulated_status == "failed"


def test_events_only_move_forward_and_repeat_nothing(org_a):
    message = SandboxMessageFactory(instance=sandbox_instance(org_a))

    assert sandbox.play_event(message_id=message.id, event="read")["data"]["status"] == "READ"
    assert sandbox.play_event(message_id=message.id, event="delivered") is None
    assert sandbox.play_event(message_id=message.id, event="read") is None
    assert sandbox.play_event(message_id=message.id, event="failed") is None
    assert sandbox.play_event(message_id=message.id + 1000, event="read") is None

    assert len(received) == 1
    message.refresh_from_db()
    assert message.simulated_status == SandboxMessage.Status.READ


def test_without_a_sink_only_the_row_changes(org_a, settings):
    settings.SANDBOX_EVENT_SINK = ""
    message = SandboxMessageFactory(instance=sandbox_instance(org_a))

    sandbox.play_event(message_id=message.id, event="delivered")

    message.refresh_from_db()
    assert message.simulated_status == SandboxMessage.Status.DELIVERED
    assert received == []


def test_the_plan_uses_the_configured_delays():
    config = {**WhatsAppInstance().playback, "read_probability": 1, "reply_probability": 1}
    config.update(delivery_delay=3, read_delay=4, reply_delay=30)

    assert sandbox.draw_plan(config, random.Random(1)) == [("delivered", 3), ("read", 7), ("reply", 33)]
    assert sandbox.draw_plan({**config, "delivery_probability": 0}, random.Random(1)) == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"delivery_delay": 3600}, "delivery_delay must be a number of seconds from 0 to 300."),
        ({"read_probability": 1.5}, "read_probability must be a number from 0 to 1."),
        ({"playback": "yes"}, "playback must be true or false."),
        ({"speed": 2}, "Unknown keys: speed."),
    ],
)
def test_bad_playback_settings_are_refused_naming_the_key(org_a, config, message):
    instance = WhatsAppInstance(organization=org_a, name="S", sandbox_config=config)

    with pytest.raises(ValidationError) as caught:
        instance.full_clean()

    assert caught.value.message_dict["sandbox_config"] == [message]
