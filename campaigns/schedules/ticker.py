"""The ticker: due occurrences become executions, exactly once each.

`tick()` runs from the beat task (every 30 s) and may run in several processes at once:

1. It locks a batch of due schedules (`next_scheduled_at <= now`, active, not paused)
   with `FOR UPDATE SKIP LOCKED`, so each schedule is handled by one ticker at a time.
2. For each, it asks the calculator for the occurrences in [next_scheduled_at, now].
   The latest one still inside its catch-up window (`catchup_window`, and never past
   the end of its execution window) is handled; every other one is recorded `missed`
   (with one campaign log entry), so downtime never fires a burst of stale starts.
3. Handling an occurrence inserts its `ScheduleRun` (unique per schedule and instant: a
   second ticker, beat or retried task finds it and starts nothing), applies the overlap
   policy and starts the execution through `start_campaign` (type "scheduled",
   `trigger_event` = the occurrence, `settings` = its `modify` exceptions), all in the
   transaction that advances `next_scheduled_at`.
4. Then it starts the oldest `buffered` run of each schedule whose campaign is free
   (buffer_one, backfills).
"""

import logging
import time
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from campaigns import windows
from campaigns.models import CampaignLog, Execution
from campaigns.schedules import occurrences
from campaigns.schedules.models import Schedule, ScheduleRun
from campaigns.schedules.services import live_executions
from campaigns.services import log, start_campaign

logger = logging.getLogger(__name__)
# At most this many past occurrences are looked at (and recorded missed) per schedule and tick.
MAX_DUE_SCAN = 10_000
# A schedule whose handling failed unexpectedly is looked at again this much later.
RETRY_AFTER = timedelta(minutes=5)


def tick(*, at=None, batch_size: int = 50, budget_seconds: float = 25.0) -> dict:
    """Handle due schedules in batches for up to `budget_seconds`; returns counts by outcome."""
    deadline = time.monotonic() + budget_seconds
    counts = {"schedules": 0, "started": 0, "skipped": 0, "missed": 0, "buffered": 0}
    while time.monotonic() < deadline:
        now = at or windows.now()
        with transaction.atomic():
            due = list(
                Schedule.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(is_active=True, is_paused=False, next_scheduled_at__lte=now)
                .select_related("campaign")
                .order_by("next_scheduled_at")[:batch_size]
            )
            for schedule in due:
                try:
                    with transaction.atomic():
                        handle_due(schedule=schedule, at=now, counts=counts)
                except Exception:  # one broken schedule must not hold the others back (logged)
                    logger.exception("schedule %s: handling the due occurrence failed; retried later", schedule.id)
                    Schedule.objects.filter(id=schedule.id).update(next_scheduled_at=now + RETRY_AFTER)
        counts["schedules"] += len(due)
        if len(due) < batch_size:
            break
    counts["started"] += start_buffered(at=at)
    return counts


def has_more_due(*, at=None) -> bool:
    now = at or windows.now()
    return Schedule.objects.filter(is_active=True, is_paused=False, next_scheduled_at__lte=now).exists()


def handle_due(*, schedule: Schedule, at, counts: dict) -> None:
    exceptions = list(schedule.exceptions.all())
    first = schedule.next_scheduled_at
    due = []
    for item in occurrences.events(schedule, exceptions, after=first - timedelta(microseconds=1), until=at):
        if isinstance(item, occurrences.Occurrence):
            due.append(item)
            if len(due) >= MAX_DUE_SCAN:
                break
    late = due[:-1]
    if due and at > deadline(schedule, due[-1]):
        late = due
    if late:
        record_missed(schedule=schedule, missed=late, at=at)
        counts["missed"] += len(late)
    if due and due[-1] not in late:
        occurrence = due[-1]
        run = take_run(schedule=schedule, occurrence=occurrence)
        if run is not None:
            outcome = decide(schedule=schedule, run=run)
            counts[outcome] += 1
    after = max(at, due[-1].at) if due else at
    upcoming = occurrences.next_occurrence(schedule, exceptions, after=after)
    schedule.next_scheduled_at = upcoming.at if upcoming else None
    Schedule.objects.filter(id=schedule.id).update(next_scheduled_at=schedule.next_scheduled_at)


def deadline(schedule: Schedule, occurrence: occurrences.Occurrence):
    """The latest an occurrence may start: its catch-up window, and never past its execution window."""
    latest = occurrence.at + schedule.catchup_window
    closes = occurrences.window_end_after(occurrence.at, schedule)
    if closes is not None and closes > occurrence.at:
        latest = min(latest, closes)
    return latest


def take_run(*, schedule: Schedule, occurrence) -> ScheduleRun | None:
    """The occurrence's unique run row, or None when someone already took it."""
    try:
        with transaction.atomic():
            return ScheduleRun.objects.create(
                schedule=schedule,
                scheduled_for=occurrence.at,
                status=ScheduleRun.Status.BUFFERED,
                settings=occurrence.modified,
            )
    except IntegrityError:
        logger.info("schedule %s: occurrence %s already handled", schedule.id, occurrence.at.isoformat())
        return None


def decide(*, schedule: Schedule, run: ScheduleRun) -> str:
    """Apply the overlap policy to a fresh run: start it, leave it buffered, or skip it."""
    live = live_executions(schedule.campaign_id)
    limit = run.settings.get("max_concurrent_executions") or schedule.campaign.max_concurrent_executions
    policy = schedule.overlap_policy
    busy = live >= limit if policy == Schedule.OverlapPolicy.ALLOW else live > 0
    if busy and policy == Schedule.OverlapPolicy.BUFFER_ONE:
        waiting = ScheduleRun.objects.filter(schedule=schedule, status=ScheduleRun.Status.BUFFERED).exclude(id=run.id)
        if not waiting.exists():
            return "buffered"
    if busy:
        skip_run(schedule=schedule, run=run, reason="overlap", detail=_("An execution of this campaign is running."))
        return "skipped"
    return "started" if start_run(schedule=schedule, run=run) else "skipped"


def skip_run(*, schedule: Schedule, run: ScheduleRun, reason: str, detail: str) -> None:
    ScheduleRun.objects.filter(id=run.id).update(status=ScheduleRun.Status.SKIPPED, reason=reason, detail=detail[:500])
    run.status, run.reason, run.detail = ScheduleRun.Status.SKIPPED, reason, detail
    log(
        campaign=schedule.campaign,
        type=CampaignLog.Type.OCCURRENCE_SKIPPED,
        severity=CampaignLog.Severity.WARNING,
        message=_("Scheduled occurrence of %(at)s skipped: %(detail)s")
        % {"at": run.scheduled_for.isoformat(), "detail": detail},
        details={"scheduled_for": run.scheduled_for.isoformat(), "reason": reason},
    )


def start_run(*, schedule: Schedule, run: ScheduleRun, user=None, strict: bool = False) -> Execution | None:
    """Start the run's execution with the manual start's service; a refusal skips the run (or raises, if strict)."""
    at = windows.now()
    try:
        with transaction.atomic():
            execution = start_campaign(
                campaign=schedule.campaign,
                user=user,
                execution_type=Execution.Type.SCHEDULED,
                trigger_event=run.scheduled_for.isoformat(),
                settings=run.settings,
            )
    except ValidationError as error:
        if strict:
            raise
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
        skip_run(schedule=schedule, run=run, reason="refused", detail=detail)
        return None
    ScheduleRun.objects.filter(id=run.id).update(status=ScheduleRun.Status.STARTED, execution=execution, started_at=at)
    run.status, run.execution, run.started_at = ScheduleRun.Status.STARTED, execution, at
    Schedule.objects.filter(id=schedule.id).update(last_executed_at=at, execution_count=F("execution_count") + 1)
    return execution


def record_missed(*, schedule: Schedule, missed: list, at) -> None:
    ScheduleRun.objects.bulk_create(
        [
            ScheduleRun(
                schedule=schedule,
                scheduled_for=o.at,
                status=ScheduleRun.Status.MISSED,
                reason="late",
                detail=_("Due at %(at)s, past its catch-up window.") % {"at": o.at.isoformat()},
                settings=o.modified,
            )
            for o in missed
        ],
        ignore_conflicts=True,
    )
    log(
        campaign=schedule.campaign,
        type=CampaignLog.Type.OCCURRENCE_MISSED,
        severity=CampaignLog.Severity.WARNING,
        message=_("%(n)d scheduled occurrence(s) missed (from %(first)s to %(last)s): past the catch-up window.")
        % {"n": len(missed), "first": missed[0].at.isoformat(), "last": missed[-1].at.isoformat()},
        details={"missed": [o.at.isoformat() for o in missed[:100]], "at": at.isoformat()},
    )


def start_buffered(*, at=None) -> int:
    """Start the oldest waiting run of each schedule whose campaign is free; returns how many started."""
    waiting = (
        ScheduleRun.objects.filter(status=ScheduleRun.Status.BUFFERED)
        .order_by("schedule_id", "scheduled_for")
        .values_list("id", "schedule_id")
    )
    first_of = {}
    for run_id, schedule_id in waiting:
        first_of.setdefault(schedule_id, run_id)
    started = 0
    for run_id in first_of.values():
        with transaction.atomic():
            run = (
                ScheduleRun.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("schedule__campaign")
                .filter(id=run_id, status=ScheduleRun.Status.BUFFERED)
                .first()
            )
            if run is None or run.schedule.is_paused or not run.schedule.is_active:
                continue
            schedule = run.schedule
            live = live_executions(schedule.campaign_id)
            limit = run.settings.get("max_concurrent_executions") or schedule.campaign.max_concurrent_executions
            busy = live >= limit if schedule.overlap_policy == Schedule.OverlapPolicy.ALLOW else live > 0
            if not busy and start_run(schedule=schedule, run=run):
                started += 1
    return started
