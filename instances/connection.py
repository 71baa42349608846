"""Numbers that work the moment they are added: their connection state is learned, not assumed.

- Saving an Evolution or GOSAC instance (API or admin) queues `refresh_connection` after
  commit: it points Evolution's webhook at this product (unless the instance says not to)
  and asks the provider for the state. Never inside the saving transaction (STYLE 10).
- The beat job `instances: refresh stale connection states` asks again for instances
  whose state nothing has told us for `INSTANCES_CONNECTION_STALE_SECONDS`.
- The campaign dispatcher, finding no connected number, checks the unknown or stale
  ones first (`check_unknown`) instead of pausing at once.

A failed check changes no state: it is written to `connection_reason` ("Connection check
failed: …") so the API and the admin say why a number is not sending.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from instances.models import WhatsAppInstance
from instances.providers.base import ProviderError
from instances.services import check_connection, configure_webhook

logger = logging.getLogger(__name__)

CHECKED_PROVIDERS = (
    WhatsAppInstance.Provider.EVOLUTION,
    WhatsAppInstance.Provider.GOSAC,
    WhatsAppInstance.Provider.CLOUD,
)


def is_stale(instance: WhatsAppInstance, *, at=None) -> bool:
    """Nothing told us this number's state recently (or ever)."""
    if instance.provider not in CHECKED_PROVIDERS:
        return False
    if instance.connection_checked_at is None:
        return True
    at = at or timezone.now()
    return at - instance.connection_checked_at > timedelta(seconds=settings.INSTANCES_CONNECTION_STALE_SECONDS)


def queue_refresh(*, instance: WhatsAppInstance, configure: bool = True) -> None:
    """After the caller's commit, configure the webhook and learn the state (a Celery task)."""
    if instance.provider not in CHECKED_PROVIDERS:
        return
    from django.db import transaction

    from instances.tasks import refresh_instance_connection

    instance_id = instance.id
    transaction.on_commit(lambda: refresh_instance_connection.delay(instance_id, configure))


def refresh_connection(*, instance: WhatsAppInstance, configure: bool = True) -> str:
    """Configure Evolution's webhook (when asked and allowed), then check the state; says what happened."""
    if instance.provider not in CHECKED_PROVIDERS or instance.status != WhatsAppInstance.Status.ACTIVE:
        return "skipped"
    if configure and instance.provider == WhatsAppInstance.Provider.EVOLUTION and instance.configure_webhook_on_save:
        try:
            configure_webhook(instance=instance)
        except ProviderError as exc:
            note_failure(instance, _("Webhook configuration failed: %(error)s") % {"error": exc})
            # The state may still be readable: a webhook refused is no proof of a closed number.
    try:
        return check_connection(instance=instance)
    except ProviderError as exc:
        note_failure(instance, _("Connection check failed: %(error)s") % {"error": exc})
        return "failed"


def note_failure(instance: WhatsAppInstance, reason: str) -> None:
    logger.warning("instance=%s %s", instance.id, reason)
    WhatsAppInstance.objects.filter(id=instance.id).update(connection_reason=reason[:255])
    instance.connection_reason = reason[:255]


def check_unknown(instances) -> list[WhatsAppInstance]:
    """Check the numbers among `instances` whose state is unknown or stale; returns those checked."""
    checked = []
    now = timezone.now()
    for instance in instances:
        if instance.status == WhatsAppInstance.Status.ACTIVE and is_stale(instance, at=now):
            refresh_connection(instance=instance, configure=False)
            checked.append(instance)
    return checked


def refresh_stale(*, limit: int = 200) -> int:
    """The beat job: learn the state of active numbers nothing has reported on lately."""
    cutoff = timezone.now() - timedelta(seconds=settings.INSTANCES_CONNECTION_STALE_SECONDS)
    stale = (
        WhatsAppInstance.objects.filter(status=WhatsAppInstance.Status.ACTIVE, provider__in=CHECKED_PROVIDERS)
        .filter(Q(connection_checked_at__isnull=True) | Q(connection_checked_at__lt=cutoff))
        .order_by("connection_checked_at", "id")[:limit]
    )
    count = 0
    for instance in stale:
        refresh_connection(instance=instance, configure=False)
        count += 1
    return count


def describe(instance: WhatsAppInstance) -> dict:
    """Why a number can or cannot send now, for the API and the admin."""
    if instance.status != WhatsAppInstance.Status.ACTIVE:
        why = _("inactive")
    elif instance.provider == WhatsAppInstance.Provider.SANDBOX or instance.connection_state == "open":
        why = _("connected")
    elif instance.connection_checked_at is None:
        why = _("state never learned")
    else:
        why = instance.connection_state
    if instance.needs_qr_login:
        why = _("needs a new QR login")
    return {
        "id": instance.id,
        "name": instance.name,
        "connection_state": instance.connection_state,
        "connection_reason": instance.connection_reason,
        "connection_checked_at": instance.connection_checked_at.isoformat() if instance.connection_checked_at else None,
        "needs_qr_login": instance.needs_qr_login,
        "why": str(why),
    }


# The limiter that keeps each number's daily count is the campaigns app's; it hands this
# module the function that tells a number's cap today (`campaigns.apps`), instances
# imports nothing above it.
CAP_STATUS = []


def provide_cap_status(cap_status) -> None:
    CAP_STATUS[:] = [cap_status]


def cap_today(instance: WhatsAppInstance) -> dict | None:
    """Today's campaign cap of the number and what is left, or None (no limiter provided one)."""
    return CAP_STATUS[0](instance) if CAP_STATUS else None
