"""The built-in sandbox: no network. Each send becomes a `SandboxMessage` row.

When the instance's `sandbox_config` has `"playback": true`, the message's life is
drawn at send time (failed, or delivered, then maybe read and replied to, by the
configured probabilities) and played back by Celery tasks after the configured delays.
Each step moves the row's simulated status forward and hands an Evolution-v2-shaped
webhook payload to the `sandbox_event_played` signal, which the webhooks app feeds to
its intake, so the real intake processes it like Evolution's (`SANDBOX_EVENT_SINK`, a
dotted path, sends it to that function instead; "" to none).
"""

import logging
import random
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from instances.models import SandboxMessage
from instances.providers.base import Provider, SendResult, about_to_send
from instances.signals import sandbox_event_played

logger = logging.getLogger(__name__)

DELIVERED, READ, FAILED, REPLY = "delivered", "read", "failed", "reply"
EVENTS = (DELIVERED, READ, FAILED, REPLY)

# Which earlier simulated statuses each event may move forward from.
_FORWARD_FROM = {
    DELIVERED: [SandboxMessage.Status.SENT],
    READ: [SandboxMessage.Status.SENT, SandboxMessage.Status.DELIVERED],
    FAILED: [SandboxMessage.Status.SENT],
}
_EVOLUTION_STATUS = {DELIVERED: "DELIVERY_ACK", READ: "READ", FAILED: "ERROR"}


class Sandbox(Provider):
    def send_text(self, instance, phone: str, text: str) -> SendResult:
        return _record(instance, to_phone=phone, text=text)

    def send_media(
        self, instance, phone: str, url: str, caption: str = "", filename: str = "", mimetype: str = ""
    ) -> SendResult:
        return _record(instance, to_phone=phone, text=caption, media_url=url, filename=filename, mimetype=mimetype)

    def connection_state(self, instance) -> str:
        return instance.connection_state

    def find_sent(self, instance, phone: str, since) -> list[SendResult]:
        """Its `SandboxMessage` rows to `phone` since `since`, newest first."""
        rows = SandboxMessage.objects.filter(instance=instance, to_phone=phone, created_at__gte=since)
        return [
            SendResult(provider_message_id=row.provider_message_id, accepted_at=row.created_at)
            for row in rows.order_by("-created_at")
        ]

    def configure_webhook(self, instance, url: str, events: list[str] | None = None) -> dict:
        return {"sink": "sandbox_event_played" if settings.SANDBOX_EVENT_SINK is None else settings.SANDBOX_EVENT_SINK}


def _record(instance, **fields) -> SendResult:
    about_to_send()
    message = SandboxMessage.objects.create(
        organization_id=instance.organization_id,
        instance=instance,
        provider_message_id=f"SBX{uuid.uuid4().hex[:17].upper()}",
        **fields,
    )
    config = instance.playback
    if config["playback"]:
        plan = draw_plan(config)
        transaction.on_commit(lambda: _schedule(message.id, plan))
    return SendResult(
        provider_message_id=message.provider_message_id,
        accepted_at=message.created_at,
        raw={"key": {"id": message.provider_message_id, "fromMe": True}, "status": "PENDING"},
    )


def draw_plan(config: dict, rng: random.Random | None = None) -> list[tuple[str, float]]:
    """The (event, seconds after the send) steps this message will live through."""
    rng = rng or random.Random()
    delivered_after = config["delivery_delay"]
    if rng.random() < config["failure_probability"]:
        return [(FAILED, delivered_after)]
    if rng.random() >= config["delivery_probability"]:
        return []
    plan = [(DELIVERED, delivered_after)]
    if rng.random() < config["read_probability"]:
        plan.append((READ, delivered_after + config["read_delay"]))
    if rng.random() < config["reply_probability"]:
        plan.append((REPLY, delivered_after + config["reply_delay"]))
    return plan


def _schedule(message_id: int, plan: list[tuple[str, float]]) -> None:
    from instances.tasks import play_sandbox_event

    for event, countdown in plan:
        play_sandbox_event.apply_async(args=[message_id, event], countdown=countdown)


def play_event(*, message_id: int, event: str) -> dict | None:
    """Apply one step of a sandbox message's life; returns the payload handed to the sink."""
    message = SandboxMessage.objects.select_related("instance").filter(id=message_id).first()
    if message is None:
        logger.info("sandbox message %s no longer exists; skipping %s", message_id, event)
        return None
    now = timezone.now()
    if event == REPLY:
        changed = SandboxMessage.objects.filter(id=message_id, replied_at__isnull=True).update(replied_at=now)
        payload = reply_payload(message, text=message.instance.playback["reply_text"], at=now) if changed else None
    else:
        changed = SandboxMessage.objects.filter(id=message_id, simulated_status__in=_FORWARD_FROM[event]).update(
            simulated_status=event, updated_at=now
        )
        payload = status_payload(message, status=_EVOLUTION_STATUS[event], at=now) if changed else None
    if payload is not None:
        _emit(payload)
    return payload


def _emit(payload: dict) -> None:
    """To `SANDBOX_EVENT_SINK` when it names a function ("": nowhere), else as `sandbox_event_played`."""
    if settings.SANDBOX_EVENT_SINK is None:
        sandbox_event_played.send(sender=SandboxMessage, payload=payload)
    elif settings.SANDBOX_EVENT_SINK:
        import_string(settings.SANDBOX_EVENT_SINK)(payload)


def _jid(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit()) + "@s.whatsapp.net"


def _envelope(message, event: str, data: dict, at) -> dict:
    instance = message.instance
    return {
        "event": event,
        "instance": instance.instance_name or f"sandbox-{instance.id}",
        "data": data,
        "destination": "sandbox",
        "date_time": timezone.localtime(at).isoformat(timespec="milliseconds"),
        "sender": _jid(instance.phone_number) if instance.phone_number else "",
        "server_url": "sandbox",
    }


def status_payload(message, *, status: str, at) -> dict:
    """An Evolution v2 `messages.update` for one of our messages."""
    data = {
        "messageId": f"sandbox-{message.id}",
        "keyId": message.provider_message_id,
        "remoteJid": _jid(message.to_phone),
        "fromMe": True,
        "participant": _jid(message.to_phone),
        "status": status,
        "instanceId": f"sandbox-{message.instance_id}",
    }
    return _envelope(message, "messages.update", data, at)


def reply_payload(message, *, text: str, at) -> dict:
    """An Evolution v2 `messages.upsert`: the contact answers."""
    data = {
        "key": {"remoteJid": _jid(message.to_phone), "fromMe": False, "id": f"SBXR{uuid.uuid4().hex[:16].upper()}"},
        "pushName": "Sandbox",
        "status": "DELIVERY_ACK",
        "message": {"conversation": text},
        "messageType": "conversation",
        "messageTimestamp": int(at.timestamp()),
        "instanceId": f"sandbox-{message.instance_id}",
        "source": "android",
    }
    return _envelope(message, "messages.upsert", data, at)
