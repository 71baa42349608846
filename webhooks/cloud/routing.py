"""Route parsed Cloud API events to the apps that own the state they change.

As Evolution's routing does (`webhooks.evolution.routing`): recipients by
`campaigns.tracking` (statuses only move forward, so out of order, duplicated or a
`read` with no `delivered` before it are all safe), Meta's errors on the recipient by
`campaigns.sending.cloud_errors`, opt-out keywords and conversations by `contacts` and
`flows.inbound`. Each returns a short result word stored on the event row.
"""

import logging
from datetime import datetime

from django.db import transaction

from campaigns.sending.cloud_errors import apply_failed_status
from campaigns.tracking import apply_message_status as track_message_status
from campaigns.tracking import record_opt_out, record_reply
from contacts.opt_out import matching_keyword
from contacts.services import contact_get_or_create
from flows.engine import Media
from flows.history import record_unanswered_message
from flows.inbound import handle_inbound_message
from instances import services as instance_services
from instances.models import WhatsAppInstance
from instances.templates import apply_status_update
from webhooks.cloud.events import InboundMessage, MessageStatus, TemplateStatus, Unhandled
from webhooks.queries import policy_for

logger = logging.getLogger(__name__)


def apply_message_status(*, instance: WhatsAppInstance, event: MessageStatus, at: datetime) -> str:
    result = track_message_status(
        instance=instance, message_id=event.message_id, status=event.status, at=at, occurred_at=event.occurred_at
    )
    if event.status == "failed":
        apply_failed_status(instance=instance, message_id=event.message_id, error=event.error, at=at)
    return result


def apply_inbound_message(*, instance: WhatsAppInstance, event: InboundMessage, at: datetime) -> str:
    contact, _created = contact_get_or_create(
        organization=instance.organization, phone=event.phone, name=event.contact_name
    )
    when = event.occurred_at or at
    instance_services.record_contact_message(instance=instance, phone=event.phone, at=when)
    transaction.on_commit(lambda: instance_services.record_reply(instance_id=instance.id))
    replied = record_reply(instance=instance, contact=contact, at=when)
    policy = policy_for(organization_id=instance.organization_id)
    text = "" if event.media_id else event.text
    if keyword := matching_keyword(text, policy.opt_out):
        _record_history(instance=instance, contact=contact, event=event, at=when)
        return record_opt_out(instance=instance, contact=contact, keyword=keyword, message_id=event.message_id)
    if contact.is_opted_out:
        _record_history(instance=instance, contact=contact, event=event, at=when)
        if keyword := matching_keyword(text, policy.opt_in):
            contact.mark_opted_in()
            return "opted_in"
        return "from_opted_out"
    media = Media(mimetype=event.mimetype, filename=event.file_name) if event.media_id else None
    outcome = handle_inbound_message(
        instance=instance,
        contact=contact,
        text=event.text,
        media=media,
        provider_message_id=event.message_id,
        choice_key=event.reply_id,  # a tapped button or list row: the option's own id
    )
    return "replied" if replied else f"flow_{outcome.reason}"


def apply_template_status(*, instance: WhatsAppInstance, event: TemplateStatus, at: datetime) -> str:
    return apply_status_update(
        instance=instance,
        meta_id=event.template_id,
        name=event.name,
        language=event.language,
        status=event.status,
        reason=event.reason,
    )


def apply_unhandled(*, instance: WhatsAppInstance, event: Unhandled, at: datetime) -> str:
    return "ignored"


APPLIERS = {
    MessageStatus: apply_message_status,
    InboundMessage: apply_inbound_message,
    TemplateStatus: apply_template_status,
    Unhandled: apply_unhandled,
}


def apply(*, instance: WhatsAppInstance, event, at: datetime) -> str:
    return APPLIERS[type(event)](instance=instance, event=event, at=at)


def _record_history(*, instance, contact, event: InboundMessage, at: datetime) -> None:
    record_unanswered_message(
        instance=instance,
        contact=contact,
        outbound=False,
        provider_message_id=event.message_id,
        text=event.text,
        message_type=event.message_type if event.media_id else "",
        mimetype=event.mimetype,
        at=at,
    )
