"""What other apps call to send through an instance and to tell it what happened.

Sending: `send_text` / `send_media` look up the provider client by the instance's
kind, call it once (never retrying), log the call, count it, and raise the
provider's classified error unchanged (see `instances.providers.base`).

An error about the instance itself (bad API key, instance unknown to Evolution,
`exc.instance_level`) also closes the instance's connection state, so
`connection_changed` pauses what sends through it until an operator fixes it and a
connection check opens it again. The error is still `ProviderRejected`; a dispatcher
may leave the recipient pending instead of failing it when `exc.instance_level`.
"""

import logging
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from config import logfmt
from config.metrics import PROVIDER_CALL_SECONDS, SENDS
from instances import counters
from instances.health import HEALTH_CLOSE_PENALTY
from instances.models import ContactWindow, WhatsAppInstance
from instances.providers import get_provider
from instances.providers.base import ProviderError, ProviderRejected, SendResult
from instances.providers.choices import Choice
from instances.providers.cloud import window_closed
from instances.signals import connection_changed

logger = logging.getLogger(__name__)

WEBHOOK_PATHS = {
    WhatsAppInstance.Provider.EVOLUTION: "evolution",
    WhatsAppInstance.Provider.GOSAC: "gosac",
    WhatsAppInstance.Provider.CLOUD: "cloud",
}


def send_text(*, instance: WhatsAppInstance, phone: str, text: str) -> SendResult:
    return _send(instance, "send_text", phone=phone, text=text)


def send_media(
    *,
    instance: WhatsAppInstance,
    phone: str,
    url: str,
    caption: str = "",
    filename: str = "",
    mimetype: str = "",
) -> SendResult:
    return _send(instance, "send_media", phone=phone, url=url, caption=caption, filename=filename, mimetype=mimetype)


def find_sent(*, instance: WhatsAppInstance, phone: str, since) -> list[SendResult] | None:
    """What the provider says this instance sent to `phone` since `since`; None when it cannot tell."""
    return _call(instance, "find_sent", phone=phone, since=since)


def send_template(
    *, instance: WhatsAppInstance, phone: str, name: str, language: str, components: list | None = None
) -> SendResult:
    """A Cloud API message template (`instances.providers.cloud`); other providers have none."""
    return _send(instance, "send_template", phone=phone, name=name, language=language, components=components)


def send_interactive(*, instance: WhatsAppInstance, phone: str, interactive: dict) -> SendResult:
    return _send(instance, "send_interactive", phone=phone, interactive=interactive)


def send_uploaded_media(
    *, instance: WhatsAppInstance, phone: str, media_id: str, kind: str, caption: str = "", filename: str = ""
) -> SendResult:
    return _send(
        instance, "send_uploaded_media", phone=phone, media_id=media_id, kind=kind, caption=caption, filename=filename
    )


def mark_as_read(*, instance: WhatsAppInstance, message_id: str) -> bool:
    return _call(instance, "mark_as_read", message_id=message_id)


# Sends Meta allows only inside the contact's 24-hour window (a template goes at any time).
FREE_FORM_OPERATIONS = {"send_text", "send_media", "send_uploaded_media", "send_interactive"}


def record_contact_message(*, instance: WhatsAppInstance, phone: str, at) -> None:
    """A contact wrote to a Cloud API number: its window opens (or moves forward, never back)."""
    windows = ContactWindow.objects.filter(instance_id=instance.id, phone=phone)
    if windows.filter(last_inbound_at__lt=at).update(last_inbound_at=at) or windows.exists():
        return
    try:
        with transaction.atomic():
            ContactWindow.objects.create(instance_id=instance.id, phone=phone, last_inbound_at=at)
    except IntegrityError:  # another message of the contact created it meanwhile
        windows.filter(last_inbound_at__lt=at).update(last_inbound_at=at)


def window_open(*, instance: WhatsAppInstance, phone: str, at=None) -> bool:
    window = ContactWindow.objects.filter(instance_id=instance.id, phone=phone).first()
    return window is not None and window.is_open(at or timezone.now())


def _check_window(instance: WhatsAppInstance, operation: str, phone: str) -> None:
    """Outside the window Meta refuses free-form messages (131047): refused here, at the moment of sending."""
    if instance.provider != WhatsAppInstance.Provider.CLOUD or operation not in FREE_FORM_OPERATIONS:
        return
    if window_open(instance=instance, phone=phone):
        return
    raise window_closed(phone)


def send_choice(*, instance: WhatsAppInstance, phone: str, choice: Choice) -> SendResult:
    """A prompt and its options, rendered by the instance's provider (numbered text, a poll, buttons…)."""
    return _send(instance, "send_choice", phone=phone, choice=choice)


def _send(instance: WhatsAppInstance, operation: str, **kwargs) -> SendResult:
    if instance.status != WhatsAppInstance.Status.ACTIVE:
        raise ProviderRejected(_("The instance is inactive."), code="instance_inactive", instance_level=True)
    _check_window(instance, operation, kwargs.get("phone", ""))
    try:
        result = _call(instance, operation, **kwargs)
    except ProviderRejected as exc:
        record_message_failed(instance_id=instance.id)
        if exc.instance_level:
            set_connection_state(instance=instance, state=WhatsAppInstance.ConnectionState.CLOSE, reason=str(exc))
        raise
    # Unavailable (will be retried) and outcome-unknown sends are not counted either way.
    record_message_sent(instance_id=instance.id)
    return result


def _call(instance: WhatsAppInstance, operation: str, **kwargs):
    """Call the provider once; log and measure instance, latency and outcome (never a key, never a body we sent)."""
    with logfmt.bound(organization_id=instance.organization_id, instance_id=instance.id):
        return _measured_call(instance, operation, **kwargs)


def _measured_call(instance: WhatsAppInstance, operation: str, **kwargs):
    client = get_provider(instance.provider)
    started = time.monotonic()
    try:
        result = getattr(client, operation)(instance, **kwargs)
    except ProviderError as exc:
        elapsed = time.monotonic() - started
        _measure(instance.provider, operation, outcome_of(exc), elapsed)
        logger.warning(
            "provider call instance=%s provider=%s operation=%s outcome=%s code=%s status=%s latency_ms=%d: %s",
            instance.id,
            instance.provider,
            operation,
            type(exc).__name__,
            exc.code,
            exc.status_code,
            elapsed * 1000,
            exc,
        )
        raise
    elapsed = time.monotonic() - started
    _measure(instance.provider, operation, "ok", elapsed)
    logger.info(
        "provider call instance=%s provider=%s operation=%s outcome=ok latency_ms=%d",
        instance.id,
        instance.provider,
        operation,
        elapsed * 1000,
    )
    return result


# Outcome labels of `whatsflow_sends_total` and `whatsflow_provider_call_seconds`.
OUTCOMES = {"ProviderRejected": "rejected", "ProviderUnavailable": "unavailable", "ProviderOutcomeUnknown": "unknown"}
SEND_OPERATIONS = {"send_text", "send_media", "send_template", "send_interactive", "send_uploaded_media"}


def outcome_of(exc: ProviderError) -> str:
    """The label of the error's class, or of the class it refines (e.g. a Cloud API refusal)."""
    return next((OUTCOMES[cls.__name__] for cls in type(exc).__mro__ if cls.__name__ in OUTCOMES), "error")


def _measure(provider: str, operation: str, outcome: str, elapsed: float) -> None:
    PROVIDER_CALL_SECONDS.labels(provider, operation, outcome).observe(elapsed)
    if operation in SEND_OPERATIONS:
        SENDS.labels(provider, outcome).inc()


def check_connection(*, instance: WhatsAppInstance) -> str:
    """Ask the provider for the connection state and store it; returns the state."""
    state = _call(instance, "connection_state")
    set_connection_state(instance=instance, state=state, reason=_("Connection check"))
    return state


def webhook_url(instance: WhatsAppInstance) -> str:
    """Where the provider should post this instance's events; the secret authenticates the caller."""
    path = WEBHOOK_PATHS.get(instance.provider)
    if path is None:
        return ""
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/api/webhooks/{path}/{instance.webhook_secret}/"


def configure_webhook(*, instance: WhatsAppInstance, events: list[str] | None = None) -> str:
    """Point the provider's webhooks at this deployment; returns the URL configured."""
    url = webhook_url(instance)
    _call(instance, "configure_webhook", url=url, events=events)
    return url


def start_qr_login(*, instance: WhatsAppInstance) -> dict:
    """Configure the webhook, then ask the provider for a QR code (see `Provider.connect`)."""
    configure_webhook(instance=instance)
    return _call(instance, "connect")


def refresh_qr(*, instance: WhatsAppInstance) -> dict:
    """A fresh QR code (they expire within a minute) or the state once logged in."""
    return _call(instance, "connect")


def set_connection_state(
    *, instance: WhatsAppInstance, state: str, reason: str = "", needs_qr_login: bool | None = None
) -> bool:
    """Move the instance to `state`; True if it changed, and then `connection_changed` is sent after commit.

    A compare-and-set on the state read, so two webhooks racing each see one change
    at most and the signal goes out once per real change. `needs_qr_login` True marks
    the number as logged out (the caller knows its provider's codes), even when it was
    already closed; None leaves the mark as it is; an `open` always clears it.
    """
    if state not in WhatsAppInstance.ConnectionState.values:
        raise ValueError(f"Unknown connection state {state!r}")
    if state == WhatsAppInstance.ConnectionState.OPEN:
        needs_qr_login = False
    rows = WhatsAppInstance.objects.filter(id=instance.id)
    mark = {} if needs_qr_login is None else {"needs_qr_login": needs_qr_login}
    with transaction.atomic():
        while True:
            current = rows.values_list("connection_state", "counters_date", "organization__time_zone").first()
            if current is None:
                return False
            old_state, counters_date, time_zone = current
            now = timezone.now()
            if old_state == state:
                if mark and rows.exclude(**mark).update(**mark, connection_reason=reason[:255], updated_at=now):
                    _refresh_connection_fields(instance)
                else:
                    # Nothing changed, but the state is known as of now (the stale-state refresh skips it).
                    rows.update(connection_checked_at=now)
                    instance.connection_checked_at = now
                return False
            changes = {
                "connection_state": state,
                "connection_reason": reason[:255],
                "updated_at": now,
                "connection_checked_at": now,
                **mark,
            }
            if state == WhatsAppInstance.ConnectionState.OPEN:
                changes["last_connected_at"] = now
            elif state == WhatsAppInstance.ConnectionState.CLOSE:
                changes["last_disconnected_at"] = now
                changes["disconnects_today"] = F("disconnects_today") + 1
                changes["health_score"] = Greatest(F("health_score") - HEALTH_CLOSE_PENALTY, Value(0))
                today = counters.local_today(time_zone)
                if counters_date != today:
                    # The first event of a new day starts today's counters, as a flush would;
                    # otherwise the day's first flush would reset this disconnect away.
                    changes.update(dict.fromkeys(WhatsAppInstance.COUNTER_FIELDS.values(), 0))
                    changes.update(counters_date=today, disconnects_today=1)
            if rows.filter(connection_state=old_state, counters_date=counters_date).update(**changes):
                break
        transaction.on_commit(
            lambda: connection_changed.send(
                sender=WhatsAppInstance, instance=instance, old_state=old_state, new_state=state, reason=reason
            )
        )
    _refresh_connection_fields(instance)
    logger.info("instance=%s connection %s -> %s (%s)", instance.id, old_state, state, reason)
    return True


def _refresh_connection_fields(instance: WhatsAppInstance) -> None:
    instance.refresh_from_db(
        fields=[
            "connection_state",
            "connection_reason",
            "needs_qr_login",
            "last_connected_at",
            "last_disconnected_at",
            "health_score",
            "disconnects_today",
            "counters_date",
            "connection_checked_at",
        ]
    )


# Outcomes of messages, per message; see `instances.counters` for why these do not
# write the instance row directly.


def record_message_sent(*, instance_id: int, count: int = 1) -> None:
    counters.add(instance_id=instance_id, counter="sent", count=count)


def record_message_delivered(*, instance_id: int, count: int = 1) -> None:
    counters.add(instance_id=instance_id, counter="delivered", count=count)


def record_message_read(*, instance_id: int, count: int = 1) -> None:
    counters.add(instance_id=instance_id, counter="read", count=count)


def record_message_failed(*, instance_id: int, count: int = 1) -> None:
    counters.add(instance_id=instance_id, counter="failed", count=count)


def record_reply(*, instance_id: int, count: int = 1) -> None:
    counters.add(instance_id=instance_id, counter="replies", count=count)


def counting_in_batches():
    """A block whose message counts are added together at its end (`instances.counters.deferred`)."""
    return counters.deferred()


def flush_counters() -> int:
    return counters.flush()


def reset_daily_counters() -> int:
    return counters.reset_daily()
