"""Route parsed Evolution events to the apps that own the state they change.

Each function returns a short result word stored on the event row (and answered when
the event is applied in the request). What an event means is decided by its owner:
recipients by `campaigns.tracking`, the history by `flows.history`, conversations by
`flows.inbound`, the connection by `instances.services`. The intake runs each stored
event once, and each owner's change is idempotent.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from campaigns.queries import is_campaign_message
from campaigns.tracking import apply_message_status as track_message_status
from campaigns.tracking import record_opt_out, record_reply
from contacts.models import Contact
from contacts.opt_out import matching_keyword
from contacts.services import contact_get_or_create
from flows.engine import Media
from flows.handoff import hand_off, sent_by_product
from flows.history import record_unanswered_message
from flows.inbound import handle_inbound_message
from flows.models import Handoff
from instances import services as instance_services
from instances.models import WhatsAppInstance
from webhooks.evolution.events import ConnectionChange, InboundMessage, MessageDeleted, MessageStatus
from webhooks.queries import policy_for

logger = logging.getLogger(__name__)


def apply_message_status(*, instance: WhatsAppInstance, event: MessageStatus, at: datetime) -> str:
    return track_message_status(
        instance=instance, message_id=event.message_id, status=event.status, at=at, occurred_at=event.occurred_at
    )


def apply_inbound_message(*, instance: WhatsAppInstance, event: InboundMessage, at: datetime) -> str:
    if not event.phone:
        # A @lid chat with no phone beside it: no contact to match, nothing to continue.
        logger.info("instance=%s message %s from %s has no phone", instance.id, event.message_id, event.lid)
        return "no_phone"
    contact, _created = contact_get_or_create(
        organization=instance.organization, phone=event.phone, name="" if event.from_me else event.push_name
    )
    if event.from_me:
        # Someone answered from the number's phone: a person has the contact now.
        by_a_person = not sent_by_product(instance=instance, contact=contact, message_id=event.message_id)
        if by_a_person and not is_campaign_message(instance=instance, contact=contact, message_id=event.message_id):
            _record_history(instance=instance, contact=contact, event=event, outbound=True)
            hand_off(contact=contact, instance=instance, reason=Handoff.Reason.PHONE)
            return "handed_off"
        return _record_history(instance=instance, contact=contact, event=event, outbound=True)
    when = event.occurred_at or at
    transaction.on_commit(lambda: instance_services.record_reply(instance_id=instance.id))
    policy = policy_for(organization_id=instance.organization_id)
    text = "" if event.media_type else event.text
    if keyword := matching_keyword(text, policy.opt_out):
        _record_history(instance=instance, contact=contact, event=event, outbound=False, at=when)
        return opt_out(instance=instance, contact=contact, keyword=keyword, message_id=event.message_id, at=when)
    replied = record_reply(instance=instance, contact=contact, at=when)
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


def opt_out(*, instance: WhatsAppInstance, contact: Contact, keyword: str, message_id: str, at=None) -> str:
    """Opt the contact out (`campaigns.tracking.record_opt_out`) and confirm it when configured."""
    result = record_opt_out(instance=instance, contact=contact, keyword=keyword, message_id=message_id, at=at)
    if result != "opted_out":
        return result
    confirmation = policy_for(organization_id=instance.organization_id).confirmation_text
    if confirmation:
        from webhooks.tasks import send_opt_out_confirmation

        transaction.on_commit(lambda: send_opt_out_confirmation.delay(instance.id, contact.phone, confirmation))
    return result


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


def _record_history(
    *, instance: WhatsAppInstance, contact: Contact, event: InboundMessage, outbound: bool, at: datetime | None = None
) -> str:
    record_unanswered_message(
        instance=instance,
        contact=contact,
        outbound=outbound,
        provider_message_id=event.message_id,
        text=event.text,
        message_type=event.media_type,
        mimetype=event.mimetype,
        at=at,
    )
    return "recorded"
