"""Settling `unknown` recipients with their provider, where it can tell.

A recipient is `unknown` when its request may have left and no answer said what became of it.
Some providers can list what a number sent: Evolution v2 (`chat/findMessages`) and the sandbox
(its `SandboxMessage` rows); GOSAC and Evolution v1 cannot. `CAMPAIGNS_RECONCILE_AFTER_SECONDS`
after the attempt, each `unknown` recipient is checked once, with every number of its campaign:

- a message to its phone since its claim: `sent`, with that message's id (its statuses then apply);
- every number answered and none sent it anything: `pending`, sent again (a safe re-send);
- a number that cannot tell or fails to answer: it stays `unknown`, for the operator.
Each execution gets one log row saying how many went each way.
"""

import logging
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import CampaignLog, Execution, Recipient
from campaigns.models.log import log
from campaigns.sending.batch import record_what_was_sent
from campaigns.transitions import advance_recipients
from instances import services as instance_services
from instances.providers.base import ProviderError

logger = logging.getLogger(__name__)

SENT, RESEND, UNKNOWN = "sent", "resend", "unknown"


def reconcile_unknown(*, at=None, limit: int = 100) -> Counter:
    """Check up to `limit` unchecked `unknown` recipients attempted long enough ago; counts by outcome."""
    at = at or timezone.now()
    due = at - timedelta(seconds=settings.CAMPAIGNS_RECONCILE_AFTER_SECONDS)
    recipients = list(
        Recipient.objects.filter(
            status=Recipient.Status.UNKNOWN,
            reconciled_at__isnull=True,
            attempted_at__isnull=False,
            attempted_at__lte=due,
        )
        .select_related("execution__campaign", "instance")
        .order_by("attempted_at")[:limit]
    )
    outcomes, by_execution = Counter(), {}
    for recipient in recipients:
        outcome = reconcile(recipient, at=at)
        outcomes[outcome] += 1
        by_execution.setdefault(recipient.execution_id, (recipient.execution, Counter()))[1][outcome] += 1
    for execution, counts in by_execution.values():
        _log(execution, counts)
    return outcomes


def reconcile(recipient: Recipient, *, at) -> str:
    """Settle one `unknown` recipient with its campaign's numbers (module doc); returns the outcome."""
    since = recipient.claimed_at or recipient.attempted_at
    numbers = [recipient.instance] if recipient.instance_id else list(recipient.execution.campaign.ordered_instances())
    silent = False
    for instance in numbers:
        try:
            found = instance_services.find_sent(instance=instance, phone=recipient.phone, since=since)
        except ProviderError as error:
            logger.warning("recipient=%s reconcile with instance=%s failed: %s", recipient.id, instance.id, error)
            found = None
        if found is None:
            silent = True
            continue
        taken = set(
            Recipient.objects.filter(
                instance=instance, provider_message_id__in=[m.provider_message_id for m in found]
            ).values_list("provider_message_id", flat=True)
        )
        found = [message for message in found if message.provider_message_id not in taken]  # others' sends
        if found:
            message = found[-1]  # the first sent since the claim
            record_what_was_sent([(recipient.id, instance.id, None, message.provider_message_id, message.accepted_at)])
            advance_recipients(
                Recipient.objects.filter(id=recipient.id),
                Recipient.Status.SENT,
                at=message.accepted_at,
                sent_at=Coalesce(F("sent_at"), Value(message.accepted_at)),
                reconciled_at=at,
            )
            return SENT
    if silent or not numbers:
        Recipient.objects.filter(id=recipient.id).update(reconciled_at=at)
        return UNKNOWN
    advance_recipients(
        Recipient.objects.filter(id=recipient.id, status=Recipient.Status.UNKNOWN),
        Recipient.Status.PENDING,
        next_attempt_at=at,
        reconciled_at=at,
        error=_("Not sent, as the provider says: sent again."),
    )
    return RESEND


def _log(execution: Execution, counts: Counter) -> None:
    log(
        campaign=execution.campaign,
        execution=execution,
        type=CampaignLog.Type.UNKNOWN_RECONCILED,
        severity=CampaignLog.Severity.WARNING if counts[UNKNOWN] else CampaignLog.Severity.INFO,
        message=_(
            "Unknown sends checked with the provider: %(sent)d were sent, %(resend)d were not and go out again, "
            "%(unknown)d stay unknown (the provider cannot tell)."
        )
        % {"sent": counts[SENT], "resend": counts[RESEND], "unknown": counts[UNKNOWN]},
        details=dict(counts),
    )
