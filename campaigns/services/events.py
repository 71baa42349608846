"""Inbound business events (`POST /api/v1/events`): start, for one contact, every campaign subscribed.

A campaign subscribes with `trigger_type="webhook"` and `trigger_config={"event": "<name>"}`
and is live while active (or completed: it has run before); paused, draft and archived
campaigns are not started. The contact is found or created by phone; the event's `data`
is in the recipient's variables as `{{event.<key>}}`. Opt-out, windows and limits apply
as for any start: the dispatcher sends.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from campaigns.models import Campaign, Execution, InboundEvent
from campaigns.services.starting import start_campaign
from contacts.services import contact_get_or_create

LIVE = [Campaign.Status.ACTIVE, Campaign.Status.COMPLETED]


def subscribed_campaigns(*, organization, event: str):
    return Campaign.objects.filter(
        organization=organization,
        trigger_type=Campaign.TriggerType.WEBHOOK,
        trigger_config__event=event,
        status__in=LIVE,
        deleted_at__isnull=True,
    ).order_by("id")


@transaction.atomic
def receive_event(
    *, organization, event: str, phone: str, name: str = "", data: dict | None = None, idempotency_key: str = ""
) -> tuple[InboundEvent, bool]:
    """Start what subscribes to `event` for the contact; returns (the event row, whether it is a replay)."""
    if idempotency_key:
        row = InboundEvent(organization=organization, event=event, idempotency_key=idempotency_key, data=data or {})
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            # Taken by an earlier request (or one committing now, whose insert we waited for).
            return InboundEvent.objects.get(organization=organization, idempotency_key=idempotency_key), True
    else:
        row = InboundEvent.objects.create(organization=organization, event=event, data=data or {})
    try:
        contact, _created = contact_get_or_create(organization=organization, phone=phone, name=name)
    except ValidationError as exc:
        raise ValidationError({"contact.phone": exc.message_dict.get("phone", exc.messages)}) from None
    started, skipped = [], []
    campaigns = list(subscribed_campaigns(organization=organization, event=event))
    for campaign in campaigns:
        if contact.is_opted_out:
            skipped.append({"flow_automation_id": campaign.id, "reason": "opted_out"})
            continue
        try:
            with transaction.atomic():
                execution = start_campaign(
                    campaign=campaign,
                    execution_type=Execution.Type.EVENT,
                    trigger_event=event,
                    contact_ids=[contact.id],
                    extra_variables={"event": data or {}},
                )
        except ValidationError as exc:
            reason = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            skipped.append({"flow_automation_id": campaign.id, "reason": reason})
            continue
        started.append({"flow_automation_id": campaign.id, "execution_id": execution.id})
    if not campaigns:
        message = _("No active flow automation subscribes to %(event)s: nothing was started.") % {"event": event}
    else:
        message = _("%(n)d flow automation(s) started.") % {"n": len(started)}
    row.contact = contact
    row.result = {"contact_id": contact.id, "started": started, "skipped": skipped, "message": message}
    row.save(update_fields=["contact", "result"])
    return row, False
