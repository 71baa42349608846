"""The dispatcher: claim → commit → send → record, in small batches, by many workers at once.

1. `claim()` locks a few due `pending` recipients with `FOR UPDATE SKIP LOCKED` (their
   contacts read in the same query), marks them `sending` with a lease and commits: from
   then on no other worker can take them.
2. `Batch.send()` re-checks the claim and the contact's opt-out, reserves a send slot
   (`limits`), and sends the recipient's first message(s) through the flow engine
   (`flows.services.send_start`). The check is one query for the whole batch and each send
   acts on a reading at most `RECHECK_SECONDS` old: the claim's own reading when the batch
   goes out at once, a fresh one after any wait (rate limits) or slow sends.
3. Outcomes are recorded outside the provider call. Failures at once: a provider that proved
   it did not accept goes back to `pending` with backoff; a final refusal is `failed`;
   anything ambiguous is `unknown` and is never sent again automatically. Successes are
   recorded together (`Batch.record`: their conversations in one transaction, then `sent`
   with each provider message id), at the latest `RECORD_SECONDS` after the first of them
   went out, before any wait and when the batch ends.
A worker that dies mid-batch leaves `sending` rows whose lease the sweep turns into `unknown`.
"""

import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from campaigns import limits, windows
from campaigns.models import Campaign, CampaignLog, Execution, Recipient, advance_recipients
from campaigns.services import log, pause_execution
from campaigns.stats import finalize_execution
from instances.providers.base import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from instances.services import counting_in_batches

logger = logging.getLogger(__name__)

# A send acts on a reading of its claim and opt-out at most this old (seconds).
RECHECK_SECONDS = 0.1
# Sends that went out are recorded at the latest this long after the first of them (seconds).
RECORD_SECONDS = 0.1
# The execution's heartbeat (the sweep restarts executions whose beat is stale) is written at most this often.
HEARTBEAT_SECONDS = 5.0

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
    """Send a recipient's first message(s); its batch stores the conversation (`Batch.record`)."""
    from flows.services import send_start

    return send_start(**kwargs)


def usable_instances(campaign: Campaign) -> list:
    """Numbers that can send now, healthiest first (the limiter then picks the soonest free)."""
    instances = [
        i
        for i in campaign.ordered_instances()
        if i.status == "active" and (i.connection_state == "open" or i.provider == "sandbox")
    ]
    return sorted(instances, key=lambda i: -i.health_score)


def claim(*, execution_id: int, size: int, at) -> list[Recipient]:
    """Take up to `size` due recipients for this worker; they are `sending` once this returns.

    Their contacts are read in the same query, so the claim is also the batch's first opt-out check.
    """
    with transaction.atomic():
        batch = list(
            Recipient.objects.filter(
                execution_id=execution_id, status=Recipient.Status.PENDING, next_attempt_at__lte=at
            )
            .order_by("next_attempt_at", "id")
            .select_related("contact")
            .select_for_update(skip_locked=True, of=("self",))[:size]
        )
        if not batch:
            return []
        ids = [r.id for r in batch]
        lease = at + timedelta(seconds=settings.CAMPAIGNS_LEASE_SECONDS)
        moved = advance_recipients(
            Recipient.objects.filter(id__in=ids), Recipient.Status.SENDING, at=at, lease_expires_at=lease
        )
        if moved != len(batch):  # impossible while the rows are locked: claim nothing rather than guess
            raise RuntimeError(f"claimed {moved} of {len(batch)} locked recipients")
    for recipient in batch:
        recipient.status, recipient.claimed_at, recipient.lease_expires_at = Recipient.Status.SENDING, at, lease
    return batch


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
    batch = Batch([recipient], campaign=campaign, execution=execution, start=start, checked=False)
    try:
        return batch.send(recipient, instance=instance)
    finally:
        batch.record()


class Batch:
    """Claimed recipients on their way out: re-checked and recorded in bulk (module doc, 2 and 3)."""

    def __init__(self, recipients: list[Recipient], *, campaign, execution, start=default_start, checked=True):
        self.campaign, self.execution, self.start = campaign, execution, start
        self.unsent = {recipient.id: recipient for recipient in recipients}
        self.lost: set[int] = set()
        # `checked`: the recipients were just read with their contacts (the claim).
        self.checked_at = time.monotonic() if checked else None
        self.started: list[tuple] = []  # (recipient, instance, sent start, at), not recorded yet
        self.first_started_at = 0.0

    def send(self, recipient: Recipient, *, instance) -> str:
        """Send one recipient of the batch unless it opted out or its claim was lost; returns the outcome."""
        if self.checked_at is None or time.monotonic() - self.checked_at > RECHECK_SECONDS:
            self.recheck()
        self.unsent.pop(recipient.id, None)
        if recipient.id in self.lost:
            return LOST  # the lease expired and the sweep took it: never send it now
        campaign, execution = self.campaign, self.execution
        at = windows.now()
        if recipient.contact.opted_out_at is not None or not recipient.contact.is_active:
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
            started = self.start(
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
            return _end(recipient, Recipient.Status.FAILED, error, campaign, execution, instance)
        except ProviderUnavailable as error:
            return _retry_or_fail(recipient, error, campaign, execution, instance, at=at)
        except ProviderOutcomeUnknown as error:
            return _end(recipient, Recipient.Status.UNKNOWN, error, campaign, execution, instance)
        except Exception as error:
            logger.exception("recipient=%s send raised", recipient.id)
            return _end(recipient, Recipient.Status.UNKNOWN, error, campaign, execution, instance)
        if not self.started:
            self.first_started_at = time.monotonic()
        self.started.append((recipient, instance, started, at))
        if time.monotonic() - self.first_started_at >= RECORD_SECONDS:
            self.record()
        return SENT

    def recheck(self) -> None:
        """Re-read the claim and the contact's opt-out of every recipient not sent yet, in one query."""
        states = {
            recipient_id: (opted_out_at, is_active)
            for recipient_id, opted_out_at, is_active in Recipient.objects.filter(
                id__in=list(self.unsent), status=Recipient.Status.SENDING
            ).values_list("id", "contact__opted_out_at", "contact__is_active")
        }
        for recipient_id, recipient in self.unsent.items():
            if recipient_id not in states:
                self.lost.add(recipient_id)
            else:
                recipient.contact.opted_out_at, recipient.contact.is_active = states[recipient_id]
        self.checked_at = time.monotonic()

    def record(self) -> None:
        """Store the conversations of the sends not recorded yet, then mark their recipients `sent`."""
        if not self.started:
            return
        from flows.services import store_starts

        started, self.started = self.started, []
        campaign, execution = self.campaign, self.execution
        try:
            conversations = store_starts([sent_start for _, _, sent_start, _ in started])
        except Exception as error:
            # They went out, but nothing says so: the same doubt as a send that raised.
            logger.exception("execution=%s storing %d sent starts raised", execution.id, len(started))
            for recipient, instance, _, _ in started:
                _end(recipient, Recipient.Status.UNKNOWN, error, campaign, execution, instance)
            return
        rows = [
            (recipient.id, instance.id, conversation.id, sent_start.provider_message_id, at)
            for (recipient, instance, sent_start, at), conversation in zip(started, conversations, strict=True)
        ]
        with transaction.atomic():
            advance_recipients(
                Recipient.objects.filter(id__in=[row[0] for row in rows]),
                Recipient.Status.SENT,
                at=started[0][3],
                lease_expires_at=None,
            )
            record_what_was_sent(rows)
            # A flow that ended with its first messages completed before its recipient knew
            # the conversation, so `conversation_completed` found nobody: complete them here.
            finished = [row[0] for row, c in zip(rows, conversations, strict=True) if c.status == "completed"]
            if finished:
                advance_recipients(Recipient.objects.filter(id__in=finished), Recipient.Status.COMPLETED)


def record_what_was_sent(rows: list[tuple]) -> int:
    """Each recipient's instance, conversation, provider message id and send time, in one UPDATE.

    `rows` are (recipient id, instance id, conversation id, provider message id, sent at). Only
    recipients without a message id yet: one some other change got to first keeps its status
    and still gets these.
    """
    fresh = Recipient.objects.filter(provider_message_id="")
    if connection.vendor != "postgresql":
        fields = ["instance_id", "conversation_id", "provider_message_id", "sent_at"]
        return fresh.bulk_update(
            [Recipient(id=row[0], **dict(zip(fields, row[1:], strict=True))) for row in rows], fields
        )
    values = ", ".join(["(%s::bigint, %s::bigint, %s::bigint, %s::varchar, %s::timestamptz)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Recipient._meta.db_table} AS r
                SET instance_id = v.instance_id, conversation_id = v.conversation_id,
                    provider_message_id = v.message_id, sent_at = v.sent_at
                FROM (VALUES {values}) AS v (id, instance_id, conversation_id, message_id, sent_at)
                WHERE r.id = v.id AND r.provider_message_id = ''""",
            [value for row in rows for value in row],
        )
        return cursor.rowcount


def _retry_or_fail(recipient, error, campaign, execution, instance, *, at) -> str:
    """The provider proved it did not accept: pending again after a backoff, or failed past the retries."""
    if not campaign.retry_failed or recipient.retry_count >= campaign.max_retries:
        return _end(recipient, Recipient.Status.FAILED, error, campaign, execution, instance)
    delay = min(settings.CAMPAIGNS_RETRY_MAX_SECONDS, settings.CAMPAIGNS_RETRY_BASE_SECONDS * 2**recipient.retry_count)
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


def _end(recipient, status, error, campaign, execution, instance) -> str:
    """Record a final `failed` or `unknown` with its reason and log it; returns the outcome."""
    advance_recipients(
        Recipient.objects.filter(id=recipient.id),
        status,
        lease_expires_at=None,
        error=str(error)[:1000],
        instance_id=instance.id,
    )
    failed = status == Recipient.Status.FAILED
    log(
        campaign=campaign,
        execution=execution,
        recipient=recipient,
        instance=instance,
        type=CampaignLog.Type.MESSAGE_FAILED if failed else CampaignLog.Type.MESSAGE_UNKNOWN,
        severity=CampaignLog.Severity.ERROR if failed else CampaignLog.Severity.WARNING,
        message=f"{recipient.phone}: {error}",
        details={"error_type": type(error).__name__},
    )
    return FAILED if failed else UNKNOWN


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
    beaten_at = -HEARTBEAT_SECONDS
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
        claimed = claim(execution_id=execution_id, size=size, at=at)
        if not claimed:
            break
        if time.monotonic() - beaten_at >= HEARTBEAT_SECONDS:
            Execution.objects.filter(id=execution_id).update(heartbeat_at=at)
            beaten_at = time.monotonic()
        stop = send_batch(claimed, campaign=campaign, execution=execution, instances=instances, start=start, at=at)
        if stop:
            return stop
    return next_step(execution_id)


def send_batch(claimed: list[Recipient], *, campaign, execution, instances, start=default_start, at) -> str | None:
    """Send a claimed batch, slot by slot; when it must stop early, what `run` returns."""
    max_sleep = settings.CAMPAIGNS_MAX_SLEEP_SECONDS
    batch = Batch(claimed, campaign=campaign, execution=execution, start=start)
    # The instances' message counts of the batch go to Redis in one round trip at its end.
    with counting_in_batches():
        try:
            for position, recipient in enumerate(claimed):
                slot = limits.reserve(campaign=campaign, instances=instances, at=windows.now(), max_wait=max_sleep)
                if slot.instance is None:
                    midnight = windows.next_local_midnight(campaign.organization.time_zone, at)
                    release(claimed[position:], until=midnight)
                    wait_until(execution, midnight, _("Every WhatsApp number reached its daily cap."))
                    return "waiting"
                if not slot.reserved:
                    release(claimed[position:], until=windows.now() + timedelta(seconds=slot.delay))
                    return f"later:{slot.delay}"
                if slot.delay > 0:
                    batch.record()  # nothing waits across a sleep to be recorded
                    time.sleep(slot.delay)
                if batch.send(recipient, instance=slot.instance) == RELEASED:
                    release(claimed[position + 1 :], until=windows.now())
                    break
        finally:
            batch.record()
    return None


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
