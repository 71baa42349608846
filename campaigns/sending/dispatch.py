"""The dispatcher: claim → commit → send → record, in small batches, by many workers at once.

This module owns the claim and the loop around a batch; sending and recording one claimed
batch (steps 2 and 3) is `campaigns.sending.batch`.

1. `claim()` locks a few due `pending` recipients with `FOR UPDATE SKIP LOCKED` (their
   contacts read in the same query), marks them `sending` with a lease and commits: from
   then on no other worker can take them.
2. `send_batch()` reserves a send slot for each recipient (`limits`), waiting for it or
   giving the rest of the batch back when none is free soon enough, and hands the recipient
   to a `campaigns.sending.batch.Batch`, which re-checks it and sends it.
3. The batch records the outcomes outside the provider call (`campaigns.sending.batch`).
`run()` repeats this for a task's time budget and says what comes next; `sweep()` is the
periodic safety net. Leases are short and the dispatcher's heartbeat extends them while it
works, so a worker that dies mid-batch leaves `sending` rows whose lease runs out in seconds:
the sweep gives those never attempted back to `pending` and only those whose request may
have left (`attempted_at`, see `campaigns.sending.batch`) become `unknown`.
"""

import time
from contextlib import suppress
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from campaigns import limits, windows
from campaigns.models import CampaignLog, Execution, Recipient
from campaigns.models.log import log
from campaigns.numbers import no_number_detail, usable_instances
from campaigns.sending.batch import RELEASED, Batch, default_start, release
from campaigns.services.controls import pause_execution
from campaigns.stats import finalize_execution
from campaigns.transitions import advance_recipients
from config import logfmt
from core.outages import through_outages
from instances import connection
from instances.services import counting_in_batches

# The execution's heartbeat (the sweep restarts executions whose beat is stale) and the leases
# of the batch in hand are written at most this often, also during a wait for a send slot.
HEARTBEAT_SECONDS = 1.0
# On a worker's start or its reconnection to the broker, executions whose beat is older than
# this have no live dispatcher (their queued tasks may be lost with the broker): queue them.
RESUME_STALE_SECONDS = 3.0


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
            Recipient.objects.filter(id__in=ids),
            Recipient.Status.SENDING,
            at=at,
            lease_expires_at=lease,
            attempted_at=None,
            started_at=Coalesce(F("started_at"), Value(at)),
            last_retry_at=Case(When(retry_count__gt=0, then=Value(at)), default=F("last_retry_at")),
        )
        if moved != len(batch):  # impossible while the rows are locked: claim nothing rather than guess
            raise RuntimeError(f"claimed {moved} of {len(batch)} locked recipients")
    for recipient in batch:
        recipient.status, recipient.claimed_at, recipient.lease_expires_at = Recipient.Status.SENDING, at, lease
    return batch


class Heartbeat:
    """The execution's heartbeat and the leases of the batch in hand, written at most every HEARTBEAT_SECONDS."""

    def __init__(self, execution_id: int):
        self.execution_id = execution_id
        self.beaten_at = -HEARTBEAT_SECONDS

    def beat(self, claimed: list[Recipient] = ()) -> None:
        if time.monotonic() - self.beaten_at < HEARTBEAT_SECONDS:
            return
        at = windows.now()
        Execution.objects.filter(id=self.execution_id).update(heartbeat_at=at)
        if claimed:
            Recipient.objects.filter(
                id__in=[r.id for r in claimed], status=Recipient.Status.SENDING, claimed_at=claimed[0].claimed_at
            ).update(lease_expires_at=at + timedelta(seconds=settings.CAMPAIGNS_LEASE_SECONDS))
        self.beaten_at = time.monotonic()

    def sleep(self, seconds: float, claimed: list[Recipient]) -> None:
        """Wait `seconds`, beating meanwhile: a dispatcher waiting for its slot is alive."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(left, HEARTBEAT_SECONDS))
            self.beat(claimed)


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
    ids = {"organization_id": execution.organization_id, "campaign_id": execution.campaign_id}
    with logfmt.bound(**ids, execution_id=execution.id):
        return _run(execution, start=start, budget_seconds=budget_seconds)


def _run(execution: Execution, *, start, budget_seconds: float | None) -> str:
    execution_id = execution.id
    if execution.status == Execution.Status.QUEUED:
        execution.transition(Execution.Status.RUNNING, source=Execution.Status.QUEUED, started_at=windows.now())
    campaign = execution.campaign_with_settings()
    deadline = time.monotonic() + (budget_seconds or settings.CAMPAIGNS_TASK_BUDGET_SECONDS)
    max_sleep = settings.CAMPAIGNS_MAX_SLEEP_SECONDS
    heartbeat = Heartbeat(execution_id)
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
        if not instances and connection.check_unknown(campaign.ordered_instances()):
            # A number added a moment ago (or not heard from lately) is asked before giving up.
            instances = usable_instances(campaign)
        if not instances:
            pause_execution(
                execution=execution,
                reason=Execution.PauseReason.INSTANCE_DISCONNECTED,
                detail=no_number_detail(campaign),
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
        heartbeat.beat()
        stop = send_batch(
            claimed,
            campaign=campaign,
            execution=execution,
            instances=instances,
            start=start,
            at=at,
            heartbeat=heartbeat,
        )
        if stop:
            return stop
    return next_step(execution_id)


def send_batch(
    claimed: list[Recipient], *, campaign, execution, instances, start=default_start, at, heartbeat=None
) -> str | None:
    """Send a claimed batch, slot by slot; when it must stop early, what `run` returns.

    An error out of the loop (the limiter's Redis, the database) gives the recipients whose
    request never left back to `pending`, and records the sends that went out, before it
    propagates; while the database is away, it waits for it (CAMPAIGNS_OUTAGE_PATIENCE_SECONDS).
    """
    patience = settings.CAMPAIGNS_OUTAGE_PATIENCE_SECONDS
    max_sleep = settings.CAMPAIGNS_MAX_SLEEP_SECONDS
    batch = Batch(claimed, campaign=campaign, execution=execution, start=start)
    heartbeat = heartbeat or Heartbeat(execution.id)
    # The instances' message counts of the batch go to Redis in one round trip at its end.
    with counting_in_batches():
        try:
            for position, recipient in enumerate(claimed):
                heartbeat.beat(claimed)
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
                    heartbeat.sleep(slot.delay, claimed)
                if batch.send(recipient, instance=slot.instance) == RELEASED:
                    release(claimed[position + 1 :], until=windows.now())
                    break
        except Exception:
            started = batch.marked | {recipient.id for recipient, *_ in batch.started}
            unsent = [r for r in claimed if r.id not in started]
            until = windows.now() + timedelta(seconds=settings.CAMPAIGNS_OUTAGE_RETRY_SECONDS)
            with suppress(Exception):  # past the patience, their leases bring them back
                through_outages(lambda: release(unsent, until=until), patience=patience)
            raise
        finally:
            through_outages(batch.record, patience=patience)
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


def sweep(*, at=None, stale_seconds: float | None = None) -> dict:
    """The periodic safety net: expire leases, wake waiting executions, restart stalled ones, finalize.

    Stalled: due work and a heartbeat older than `stale_seconds` (CAMPAIGNS_HEARTBEAT_STALE_SECONDS),
    or recipients given back by an expired lease (their dispatcher is gone).
    """
    at = at or windows.now()
    expired, returned_to = expire_leases(at=at)
    Execution.objects.filter(status=Execution.Status.RUNNING, waiting_until__lte=at).update(waiting_until=None)
    if stale_seconds is None:
        stale_seconds = settings.CAMPAIGNS_HEARTBEAT_STALE_SECONDS
    stale = at - timedelta(seconds=stale_seconds)
    restart, finalized = [], 0
    live = Execution.objects.filter(status__in=[Execution.Status.QUEUED, Execution.Status.RUNNING]).filter(
        Q(waiting_until__isnull=True) | Q(waiting_until__lte=at)
    )
    for execution_id, heartbeat_at in live.values_list("id", "heartbeat_at"):
        pending = Recipient.objects.filter(execution_id=execution_id, status=Recipient.Status.PENDING)
        if pending.filter(next_attempt_at__lte=at).exists():
            if heartbeat_at is None or heartbeat_at < stale or execution_id in returned_to:
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


def expire_leases(*, at) -> tuple[int, set[int]]:
    """`sending` recipients whose dispatcher stopped: never attempted, `pending` again; attempted, `unknown`.

    An `unknown` one is shown to operators and never re-sent automatically. Returns how many
    expired, and the executions some were given back to.
    """
    expired = Recipient.objects.filter(status=Recipient.Status.SENDING, lease_expires_at__lt=at)
    returned_to = set(expired.filter(attempted_at__isnull=True).values_list("execution_id", flat=True).distinct())
    returned = advance_recipients(
        expired.filter(attempted_at__isnull=True), Recipient.Status.PENDING, next_attempt_at=at, lease_expires_at=None
    )
    attempted = expired.filter(attempted_at__isnull=False)
    by_execution = list(attempted.values_list("execution_id", flat=True).distinct())
    count = advance_recipients(
        attempted,
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
    return returned + count, returned_to
