"""Route parsed Evolution events to the apps that own the state they change.

Each function returns a short result word stored on the event row (and answered when
the event is applied in the request). Applying the same event twice changes nothing:
recipient statuses only move forward (`campaigns.transitions.advance_recipients`), opt-out
keeps the first opt-out, and the intake runs each stored event once.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import CampaignLog, Recipient
from campaigns.models.log import log as campaign_log
from campaigns.transitions import advance_recipients
from contacts.models import Contact
from contacts.services import contact_get_or_create
from flows.engine import Media
from flows.inbound import handle_inbound_message, store_inbound
from flows.models import MessageHistory
from instances import services as instance_services
from instances.models import WhatsAppInstance
from webhooks.evolution_events import ConnectionChange, InboundMessage, MessageDeleted, MessageStatus
from webhooks.opt_out import matching_keyword, policy_for

logger = logging.getLogger(__name__)

STATUS_LOG = {
    "sent": (CampaignLog.Type.MESSAGE_SENT, CampaignLog.Severity.INFO),
    "delivered": (CampaignLog.Type.MESSAGE_DELIVERED, CampaignLog.Severity.INFO),
    "read": (CampaignLog.Type.MESSAGE_READ, CampaignLog.Severity.INFO),
    "failed": (CampaignLog.Type.MESSAGE_FAILED, CampaignLog.Severity.ERROR),
}
STATUS_COUNTER = {
    "delivered": instance_services.record_message_delivered,
    "read": instance_services.record_message_read,
    "failed": instance_services.record_message_failed,
}
# A reply answers the last message we sent the contact, if it is still in one of these.
REPLYABLE = ["sent", "delivered", "read", "unknown"]


class NotRecordedYet(Exception):
    """A status came before the dispatcher recorded the message id of a send it just made.

    The dispatcher records its sends' ids in batches (`campaigns.sending.batch`), a moment after
    the provider answered, and Evolution may report the message in that moment. The event
    is kept for the sweep, which applies it again once the id is on its recipient.
    """


def apply_message_status(*, instance: WhatsAppInstance, event: MessageStatus, at: datetime) -> str:
    recipients = Recipient.objects.filter(instance_id=instance.id, provider_message_id=event.message_id)
    recipient = recipients.select_related("execution__campaign").first()
    if recipient is None:
        if _send_in_flight(instance=instance, received_at=at):
            raise NotRecordedYet(
                f"No recipient has message id {event.message_id} yet and a send through this instance is "
                "being recorded: applied again by the retry of unapplied events."
            )
        # A conversation's message, or a send of another system: nothing to move.
        return "not_campaign"
    changes = {"error": _("The provider reported the message as failed.")} if event.status == "failed" else {}
    moved = advance_recipients(recipients, event.status, at=event.occurred_at or at, **changes)
    if not moved:
        return "unchanged"
    log_type, severity = STATUS_LOG[event.status]
    execution = recipient.execution
    campaign_log(
        campaign=execution.campaign,
        execution=execution,
        recipient=recipient,
        instance=instance,
        type=log_type,
        severity=severity,
        message=_("%(phone)s: %(status)s") % {"phone": recipient.phone, "status": Recipient.Status(event.status).label},
        details={"provider_message_id": event.message_id},
    )
    count = STATUS_COUNTER.get(event.status)
    if count is not None:
        transaction.on_commit(lambda: count(instance_id=instance.id))
    return event.status


def apply_inbound_message(*, instance: WhatsAppInstance, event: InboundMessage, at: datetime) -> str:
    if not event.phone:
        # A @lid chat with no phone beside it: no contact to match, nothing to continue.
        logger.info("instance=%s message %s from %s has no phone", instance.id, event.message_id, event.lid)
        return "no_phone"
    contact, _created = contact_get_or_create(
        organization=instance.organization, phone=event.phone, name="" if event.from_me else event.push_name
    )
    if event.from_me:
        return _record_history(instance=instance, contact=contact, event=event, outbound=True)
    when = event.occurred_at or at
    transaction.on_commit(lambda: instance_services.record_reply(instance_id=instance.id))
    replied = _mark_replied(instance=instance, contact=contact, at=when)
    policy = policy_for(organization_id=instance.organization_id)
    text = "" if event.media_type else event.text
    if keyword := matching_keyword(text, policy.opt_out):
        _record_history(instance=instance, contact=contact, event=event, outbound=False, at=when)
        return opt_out(instance=instance, contact=contact, keyword=keyword, message_id=event.message_id)
    if contact.is_opted_out:
        _record_history(instance=instance, contact=contact, event=event, outbound=False, at=when)
        if keyword := matching_keyword(text, policy.opt_in):
            contact.mark_opted_in()
            logger.info("contact=%s opted in with %r (message %s)", contact.id, keyword, event.message_id)
            return "opted_in"
        # The flow engine would answer; nothing is sent to a contact who opted out.
        return "from_opted_out"
    outcome = handle_inbound_message(
        instance=instance,
        contact=contact,
        text=event.text,
        media=Media(mimetype=event.mimetype, filename=event.file_name) if event.media_type else None,
        provider_message_id=event.message_id,
    )
    return "replied" if replied else f"flow_{outcome.reason}"


def opt_out(*, instance: WhatsAppInstance, contact: Contact, keyword: str, message_id: str) -> str:
    """Opt the contact out and stop what is waiting to be sent to it; the first opt-out wins."""
    if not contact.mark_opted_out(reason=_("Replied %(keyword)s") % {"keyword": keyword}, source=f"keyword:{keyword}"):
        return "already_opted_out"
    pending = Recipient.objects.filter(contact_id=contact.id, status=Recipient.Status.PENDING)
    # One log entry per affected execution; a contact is in an execution once.
    affected = list(pending.select_related("execution__campaign"))
    advance_recipients(pending, Recipient.Status.OPTED_OUT, error=_("The contact opted out."))
    for recipient in affected:
        campaign_log(
            campaign=recipient.execution.campaign,
            execution=recipient.execution,
            recipient=recipient,
            instance=instance,
            type=CampaignLog.Type.CONTACT_OPTED_OUT,
            severity=CampaignLog.Severity.WARNING,
            message=_("%(phone)s opted out (%(keyword)s).") % {"phone": contact.phone, "keyword": keyword},
            details={"keyword": keyword, "provider_message_id": message_id},
        )
    confirmation = policy_for(organization_id=instance.organization_id).confirmation_text
    if confirmation:
        from webhooks.tasks import send_opt_out_confirmation

        transaction.on_commit(lambda: send_opt_out_confirmation.delay(instance.id, contact.phone, confirmation))
    return "opted_out"


def apply_message_deleted(*, instance: WhatsAppInstance, event: MessageDeleted, at: datetime) -> str:
    # The stored event row is the record analytics read; nothing else changes.
    return "recorded"


def apply_connection_change(*, instance: WhatsAppInstance, event: ConnectionChange, at: datetime) -> str:
    if event.needs_qr_login:
        reason = _("Logged out (%(code)s): the number needs a new QR login.") % {"code": event.status_reason}
    elif event.status_reason:
        reason = _("Connection %(state)s (%(code)s)") % {"state": event.state, "code": event.status_reason}
    else:
        reason = _("Connection %(state)s") % {"state": event.state}
    changed = instance_services.set_connection_state(
        instance=instance, state=event.state, reason=reason, needs_qr_login=True if event.needs_qr_login else None
    )
    if event.needs_qr_login:
        return "needs_qr_login"
    return event.state if changed else "unchanged"


APPLIERS = {
    MessageStatus: apply_message_status,
    InboundMessage: apply_inbound_message,
    MessageDeleted: apply_message_deleted,
    ConnectionChange: apply_connection_change,
}


def apply(*, instance: WhatsAppInstance, event, at: datetime) -> str:
    return APPLIERS[type(event)](instance=instance, event=event, at=at)


def _send_in_flight(*, instance: WhatsAppInstance, received_at: datetime) -> bool:
    """Whether a status for an unknown id may still find its recipient (the `sending` rows' index).

    Only while the event is young: past the grace every send it could belong to is
    recorded (or `unknown`), so a conversation's message is held back once at most.
    """
    grace = timedelta(seconds=settings.WEBHOOKS_UNRECORDED_SEND_GRACE_SECONDS)
    if timezone.now() - received_at > grace:
        return False
    return Recipient.objects.filter(instance_id=instance.id, status=Recipient.Status.SENDING).exists()


def _mark_replied(*, instance: WhatsAppInstance, contact: Contact, at: datetime) -> bool:
    last = (
        Recipient.objects.filter(instance_id=instance.id, contact_id=contact.id, status__in=REPLYABLE)
        .order_by("-sent_at", "-id")
        .values_list("id", flat=True)
        .first()
    )
    if last is None:
        return False
    return bool(advance_recipients(Recipient.objects.filter(id=last), Recipient.Status.REPLIED, at=at))


def _record_history(
    *, instance: WhatsAppInstance, contact: Contact, event: InboundMessage, outbound: bool, at: datetime | None = None
) -> str:
    """A message the flow engine must not answer: kept in the history, marked processed."""
    if not outbound:
        store_inbound(
            instance=instance,
            contact=contact,
            text=event.text,
            media=Media(mimetype=event.mimetype) if event.mimetype else None,
            message_type=event.media_type or "text",
            provider_message_id=event.message_id,
            processed=True,
            at=at,
        )
        return "recorded"
    direction = MessageHistory.Direction.OUTBOUND
    rows = MessageHistory.objects.filter(instance_id=instance.id, provider_message_id=event.message_id)
    if rows.filter(direction=direction).exists():
        return "recorded"
    MessageHistory.objects.create(
        organization_id=instance.organization_id,
        contact=contact,
        instance=instance,
        direction=direction,
        message_type=event.media_type or "text",
        text=event.text,
        mimetype=event.mimetype,
        provider_message_id=event.message_id,
        processed_at=timezone.now(),
    )
    return "recorded"
