"""The dispatcher: claim → commit → send → record, in small batches, by many workers at once.

1. `claim()` locks a few due `pending` recipients with `FOR UPDATE SKIP LOCKED`, marks them
   `sending` with a lease and commits: from then on no other worker can take them.
2. `send_one()` re-checks the claim and the contact's opt-out, reserves a send slot
   (`limits`), and starts the recipient's conversation (the flow engine sends the first
   message through the instance).
3. The outcome is recorded at once: `sent` with the provider's message id; a provider that
   proved it did not accept goes back to `pending` with backoff; a final refusal is
   `failed`; anything ambiguous is `unknown` and is never sent again automatically.
A worker that dies mid-send leaves `sending` rows whose lease the sweep turns into `unknown`.
"""

import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from campaigns import limits, windows
from campaigns.models import Campaign, CampaignLog, Execution, Recipient, advance_recipients
from campaigns.services import log, pause_execution
from campaigns.stats import finalize_execution
from instances.providers.base import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable

logger = logging.getLogger(__name__)

SENT, FAILED, RETRY, UNKNOWN, OPTED_OUT, LOST, RELEASED = (
    "sent",
    "failed",
    "retry",
    "unknown",
    "opted_out",
    "lost",
    "released",
)


def default_start(**kwargs):
    from flows.services import start_conversation

    return start_conversation(**kwargs)


def usable_instances(campaign: Campaign) -> list:
    """Numbers that can send now, healthiest first (the limiter then picks the soonest free)."""
    instances = [
        i
        for i in campaign.ordered_instances()
        if i.status == "active" and (i.connection_state == "open" or i.provider == "sandbox")
    ]
    return sorted(instances, key=lambda i: -i.health_score)


def claim(*, execution_id: int, size: int, at) -> list[Recipient]:
    """Take up to `size` due recipients for this worker; they are `sending` once this returns."""
    with transaction.atomic():
        ids = list(
            Recipient.objects.filter(
                execution_id=execution_id, status=Recipient.Status.PENDING, next_attempt_at__lte=at
            )
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:size]
        )
        if not ids:
            return []
        lease = at + timedelta(seconds=settings.CAMPAIGNS_LEASE_SECONDS)
        advance_recipients(
            Recipient.objects.filter(id__in=ids), Recipient.Status.SENDING, at=at, lease_expires_at=lease
        )
    return list(Recipient.objects.filter(id__in=ids, status=Recipient.Status.SENDING).select_related("contact"))


def release(recipients: list[Recipient], *, until) -> int:
    """Give claimed recipients back (nothing was sent): they are due again at `until`."""
    ids = [r.id for r in recipients]
    return advance_recipients(
        Recipient.objects.filter(id__in=ids, status=Recipient.Status.SENDING),
        Recipient.Status.PENDING,
        next_attempt_at=until,
        lease_expires_at=None,
    )


def send_one(recipient: Recipient, *, campaign: Campaign, execution: Execution, instance, start=default_start) -> str:
    """Send one claimed recipient through `instance` and record the outcome; returns it."""
    at = windows.now()
    state = (
        Recipient.objects.filter(id=recipient.id, status=Recipient.Status.SENDING)
        .values_list("contact__opted_out_at", "contact__is_active")
        .first()
    )
    if state is None:
        return LOST  # the lease expired and the sweep took it: never send it now
    opted_out_at, is_active = state
    if opted_out_at is not None or not is_active:
        advance_recipients(
            Recipient.objects.filter(id=recipient.id),
            Recipient.Status.OPTED_OUT,
            at=at,
            lease_expires_at=None,
            error=_("Opted out before the send."),
        )
        log(
            campaign=campaign,
            execution=execution,
            recipient=recipient,
            type=CampaignLog.Type.CONTACT_OPTED_OUT,
            message=_("%(phone)s opted out; not sent.") % {"phone": recipient.phone},
        )
        return OPTED_OUT
    try:
        started = start(
            contact=recipient.contact,
            instance=instance,
            flow=campaign.flow,
            variables=recipient.variables,
            external_ticket_id="",
        )
    except ProviderRejected as error:
        if getattr(error, "instance_level", False):
            release([recipient], until=at)
            return RELEASED
        _end(recipient, Recipient.Status.FAILED, error, campaign, execution, instance, CampaignLog.Type.MESSAGE_FAILED)
        return FAILED
    except ProviderUnavailable as error:
        if not campaign.retry_failed or recipient.retry_count >= campaign.max_retries:
            _end(
                recipient,
                Recipient.Status.FAILED,
                error,
                campaign,
                execution,
                instance,
                CampaignLog.Type.MESSAGE_FAILED,
            )
            return FAILED
        delay = min(
            settings.CAMPAIGNS_RETRY_MAX_SECONDS, settings.CAMPAIGNS_RETRY_BASE_SECONDS * 2**recipient.retry_count
        )
        delay *= random.uniform(0.8, 1.2)
        advance_recipients(
            Recipient.objects.filter(id=recipient.id),
            Recipient.Status.PENDING,
            at=at,
            lease_expires_at=None,
            next_attempt_at=at + timedelta(seconds=delay),
            retry_count=recipient.retry_count + 1,
            error=str(error)[:1000],
        )
        return RETRY
    except ProviderOutcomeUnknown as error:
        _end(
            recipient, Recipient.Status.UNKNOWN, error, campaign, execution, instance, CampaignLog.Type.MESSAGE_UNKNOWN
        )
        return UNKNOWN
    except Exception as error:
        logger.exception("recipient=%s send raised", recipient.id)
        _end(
            recipient, Recipient.Status.UNKNOWN, error, campaign, execution, instance, CampaignLog.Type.MESSAGE_UNKNOWN
        )
        return UNKNOWN
    message_id = started.sent[0].provider_message_id if started.sent else ""
    fields = {"instance_id": instance.id, "conversation_id": started.conversation.id, "lease_expires_at": None}
    if not advance_recipients(
        Recipient.objects.filter(id=recipient.id),
        Recipient.Status.SENT,
        at=at,
        provider_message_id=message_id,
        **fields,
    ):
        # A status webhook got there first: keep its status, still record what was sent.
        Recipient.objects.filter(id=recipient.id, provider_message_id="").update(
            provider_message_id=message_id, **fields
        )
    return SENT


def _end(recipient, status, error, campaign, execution, instance, log_type) -> None:
    advance_recipients(
        Recipient.objects.filter(id=recipient.id),
        status,
        lease_expires_at=None,
        error=str(error)[:1000],
        instance_id=instance.id,
    )
    log(
        campaign=campaign,
        execution=execution,
        recipient=recipient,
        instance=instance,
        type=log_type,
        severity=CampaignLog.Severity.ERROR if status == Recipient.Status.FAILED else CampaignLog.Severity.WARNING,
        message=f"{recipient.phone}: {error}",
        details={"error_type": type(error).__name__},
    )


def run(execution_id: int, *, start=default_start, budget_seconds: float | None = None) -> str:
    """Send due recipients of one execution for up to `budget_seconds`; says what comes next.

    Returns "more" (due work remains: queue again now), "later:<seconds>" (the next
    recipient is due then), "waiting" (window or cap: the sweep wakes it), "done" or "stopped".
    """
    execution = (
        Execution.objects.select_related("campaign__flow", "campaign__organization").filter(id=execution_id).first()
    )
    if execution is None:
        return "stopped"
    if execution.status == Execution.Status.QUEUED:
        execution.transition(Execution.Status.RUNNING, source=Execution.Status.QUEUED, started_at=windows.now())
    campaign = execution.campaign
    deadline = time.monotonic() + (budget_seconds or settings.CAMPAIGNS_TASK_BUDGET_SECONDS)
    max_sleep = settings.CAMPAIGNS_MAX_SLEEP_SECONDS
    while time.monotonic() < deadline:
        at = windows.now()
        status, waiting_until = Execution.objects.filter(id=execution_id).values_list("status", "waiting_until").get()
        if status != Execution.Status.RUNNING:
            return "stopped"
        if waiting_until and waiting_until > at:
            return "waiting"
        if not windows.is_open(campaign, at):
            wait_until(execution, windows.next_opening(campaign, at), _("Outside the execution window."))
            return "waiting"
        instances = usable_instances(campaign)
        if not instances:
            pause_execution(
                execution=execution,
                reason=Execution.PauseReason.INSTANCE_DISCONNECTED,
                detail=_("No connected WhatsApp number to send through."),
            )
            return "stopped"
        spacing = limits.spacing(campaign) if (campaign.rate_limit_per_hour or campaign.min_interval_seconds) else 0
        size = (
            settings.CAMPAIGNS_BATCH_SIZE
            if not spacing
            else max(1, min(settings.CAMPAIGNS_BATCH_SIZE, int(max_sleep / spacing)))
        )
        batch = claim(execution_id=execution_id, size=size, at=at)
        if not batch:
            break
        Execution.objects.filter(id=execution_id).update(heartbeat_at=at)
        for position, recipient in enumerate(batch):
            slot = limits.reserve(campaign=campaign, instances=instances, at=windows.now(), max_wait=max_sleep)
            if slot.instance is None:
                release(batch[position:], until=windows.next_local_midnight(campaign.organization.time_zone, at))
                wait_until(
                    execution,
                    windows.next_local_midnight(campaign.organization.time_zone, at),
                    _("Every WhatsApp number reached its daily cap."),
                )
                return "waiting"
            if not slot.reserved:
                release(batch[position:], until=windows.now() + timedelta(seconds=slot.delay))
                return f"later:{slot.delay}"
            if slot.delay > 0:
                time.sleep(slot.delay)
            if (
                send_one(recipient, campaign=campaign, execution=execution, instance=slot.instance, start=start)
                == RELEASED
            ):
                release(batch[position + 1 :], until=windows.now())
                break
    return next_step(execution_id)


def wait_until(execution: Execution, until, reason: str) -> None:
    updated = (
        Execution.objects.filter(id=execution.id)
        .exclude(waiting_until=until)
        .update(waiting_until=until, heartbeat_at=None)
    )
    if updated:
        log(
            campaign=execution.campaign,
            execution=execution,
            type=CampaignLog.Type.EXECUTION_WAITING,
            message=_("%(reason)s Waiting until %(until)s.") % {"reason": reason, "until": until.isoformat()},
            details={"until": until.isoformat()},
        )


def next_step(execution_id: int) -> str:
    at = windows.now()
    pending = Recipient.objects.filter(execution_id=execution_id, status=Recipient.Status.PENDING)
    if pending.filter(next_attempt_at__lte=at).exists():
        return "more"
    upcoming = pending.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    if upcoming is not None:
        return f"later:{(upcoming - at).total_seconds()}"
    if not Recipient.objects.filter(execution_id=execution_id, status=Recipient.Status.SENDING).exists():
        finalize_execution(execution_id=execution_id)
        return "done"
    return "waiting"


def sweep(*, at=None) -> dict:
    """The periodic safety net: expire leases, wake waiting executions, restart stalled ones, finalize."""
    at = at or windows.now()
    expired = expire_leases(at=at)
    Execution.objects.filter(status=Execution.Status.RUNNING, waiting_until__lte=at).update(waiting_until=None)
    stale = at - timedelta(seconds=settings.CAMPAIGNS_HEARTBEAT_STALE_SECONDS)
    restart, finalized = [], 0
    live = Execution.objects.filter(status__in=[Execution.Status.QUEUED, Execution.Status.RUNNING]).filter(
        Q(waiting_until__isnull=True) | Q(waiting_until__lte=at)
    )
    for execution_id, heartbeat_at in live.values_list("id", "heartbeat_at"):
        pending = Recipient.objects.filter(execution_id=execution_id, status=Recipient.Status.PENDING)
        if pending.filter(next_attempt_at__lte=at).exists():
            if heartbeat_at is None or heartbeat_at < stale:
                restart.append(execution_id)
        elif (
            not pending.exists()
            and not Recipient.objects.filter(execution_id=execution_id, status=Recipient.Status.SENDING).exists()
        ):
            finalized += finalize_execution(execution_id=execution_id)
    from django.utils import timezone

    from campaigns.models import SendSlot
    from campaigns.tasks import queue_dispatch

    SendSlot.objects.filter(expires_at__lt=timezone.now()).delete()
    for execution_id in restart:
        Execution.objects.filter(id=execution_id).update(heartbeat_at=at)
        queue_dispatch(execution_id, fan_out=True)
    return {"expired": expired, "restarted": len(restart), "finalized": finalized}


def expire_leases(*, at) -> int:
    """`sending` recipients whose worker died become `unknown` (shown to operators, never re-sent)."""
    expired = Recipient.objects.filter(status=Recipient.Status.SENDING, lease_expires_at__lt=at)
    by_execution = list(expired.values_list("execution_id", flat=True).distinct())
    count = advance_recipients(
        expired,
        Recipient.Status.UNKNOWN,
        at=at,
        lease_expires_at=None,
        error=_("The worker stopped during the send; it may or may not have gone out."),
    )
    for execution in Execution.objects.filter(id__in=by_execution).select_related("campaign"):
        log(
            campaign=execution.campaign,
            execution=execution,
            type=CampaignLog.Type.MESSAGE_UNKNOWN,
            severity=CampaignLog.Severity.WARNING,
            message=_("Send leases expired: outcome unknown, not re-sent."),
        )
    return count
