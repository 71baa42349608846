"""What a provider's report about a message means for a campaign's recipients.

Each function returns a short result word (stored on the webhook event row). Applying the
same report twice changes nothing: recipient statuses only move forward
(`campaigns.transitions.advance_recipients`) and opt-out keeps the first opt-out.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import CampaignLog, Recipient
from campaigns.models.log import log as campaign_log
from campaigns.transitions import advance_recipients
from contacts.models import Contact
from instances import services as instance_services
from instances.models import WhatsAppInstance

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


def apply_message_status(
    *, instance: WhatsAppInstance, message_id: str, status: str, at: datetime, occurred_at: datetime | None = None
) -> str:
    """Move the recipients of `message_id` to `status` (`sent`, `delivered`, `read`, `failed`).

    `at` is when the report was received, `occurred_at` when the provider says it happened.
    Raises NotRecordedYet while a send that may own the id is being recorded.
    """
    recipients = Recipient.objects.filter(instance_id=instance.id, provider_message_id=message_id)
    recipient = recipients.select_related("execution__campaign").first()
    if recipient is None:
        if send_in_flight(instance=instance, received_at=at):
            raise NotRecordedYet(
                f"No recipient has message id {message_id} yet and a send through this instance is "
                "being recorded: applied again by the retry of unapplied events."
            )
        # A conversation's message, or a send of another system: nothing to move.
        return "not_campaign"
    changes = {"error": _("The provider reported the message as failed.")} if status == "failed" else {}
    moved = advance_recipients(
        recipients, status, at=occurred_at or at, organization_id=instance.organization_id, **changes
    )
    if not moved:
        return "unchanged"
    log_type, severity = STATUS_LOG[status]
    execution = recipient.execution
    campaign_log(
        campaign=execution.campaign,
        execution=execution,
        recipient=recipient,
        instance=instance,
        type=log_type,
        severity=severity,
        message=_("%(phone)s: %(status)s") % {"phone": recipient.phone, "status": Recipient.Status(status).label},
        details={"provider_message_id": message_id},
    )
    count = STATUS_COUNTER.get(status)
    if count is not None:
        transaction.on_commit(lambda: count(instance_id=instance.id))
    return status


def send_in_flight(*, instance: WhatsAppInstance, received_at: datetime) -> bool:
    """Whether a status for an unknown id may still find its recipient (the `sending` rows' index).

    Only while the event is young: past the grace every send it could belong to is
    recorded (or `unknown`), so a conversation's message is held back once at most.
    """
    grace = timedelta(seconds=settings.WEBHOOKS_UNRECORDED_SEND_GRACE_SECONDS)
    if timezone.now() - received_at > grace:
        return False
    return Recipient.objects.filter(instance_id=instance.id, status=Recipient.Status.SENDING).exists()


def record_reply(*, instance: WhatsAppInstance, contact: Contact, at: datetime) -> bool:
    """Mark the last message sent to the contact through the instance `replied`; whether one moved."""
    last = _last_sent(instance=instance, contact=contact, statuses=REPLYABLE)
    if last is None:
        return False
    return bool(
        advance_recipients(
            Recipient.objects.filter(id=last), Recipient.Status.REPLIED, at=at, organization_id=instance.organization_id
        )
    )


def _last_sent(*, instance: WhatsAppInstance, contact: Contact, statuses: list[str]) -> int | None:
    return (
        Recipient.objects.filter(instance_id=instance.id, contact_id=contact.id, status__in=statuses)
        .order_by("-sent_at", "-id")
        .values_list("id", flat=True)
        .first()
    )


def record_opt_out(
    *, instance: WhatsAppInstance, contact: Contact, keyword: str, message_id: str, at: datetime | None = None
) -> str:
    """Opt the contact out, stop what is waiting to be sent to it and mark the message it answered.

    The answered message is the last one sent through the instance (as for a reply): its
    recipient becomes `opted_out`, not `replied`. The first opt-out wins.
    """
    if not contact.mark_opted_out(reason=_("Replied %(keyword)s") % {"keyword": keyword}, source=f"keyword:{keyword}"):
        return "already_opted_out"
    answered = _last_sent(instance=instance, contact=contact, statuses=[*REPLYABLE, Recipient.Status.REPLIED])
    stopped = Recipient.objects.filter(Q(contact_id=contact.id, status=Recipient.Status.PENDING) | Q(id=answered))
    # One log entry per affected execution; a contact is in an execution once.
    affected = list(stopped.select_related("execution__campaign"))
    advance_recipients(
        stopped,
        Recipient.Status.OPTED_OUT,
        at=at,
        organization_id=contact.organization_id,
        error=_("The contact opted out."),
    )
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
    return "opted_out"
