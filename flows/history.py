"""Messages kept in the history that the flow engine does not answer.

A provider reports messages the engine must not act on (a reply that opted out, a message
from a contact who opted out, the echo of a message sent from the number's own phone):
they are kept in `MessageHistory` all the same, marked processed, once per provider id.
"""

from django.utils import timezone

from contacts.models import Contact
from flows.engine import Media
from flows.inbound import store_inbound
from flows.models import MessageHistory


def record_unanswered_message(
    *,
    instance,
    contact: Contact,
    outbound: bool,
    provider_message_id: str,
    text: str = "",
    message_type: str = "",
    mimetype: str = "",
    at=None,
) -> None:
    """A message the flow engine must not answer: kept in the history, marked processed."""
    if not outbound:
        store_inbound(
            instance=instance,
            contact=contact,
            text=text,
            media=Media(mimetype=mimetype) if mimetype else None,
            message_type=message_type or "text",
            provider_message_id=provider_message_id,
            processed=True,
            at=at,
        )
        return
    direction = MessageHistory.Direction.OUTBOUND
    rows = MessageHistory.objects.filter(instance_id=instance.id, provider_message_id=provider_message_id)
    if rows.filter(direction=direction).exists():
        return
    MessageHistory.objects.create(
        organization_id=instance.organization_id,
        contact=contact,
        instance=instance,
        direction=direction,
        message_type=message_type or "text",
        text=text,
        mimetype=mimetype,
        provider_message_id=provider_message_id,
        processed_at=timezone.now(),
    )
