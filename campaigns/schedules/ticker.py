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

Steps 2–3 run set-wise for a whole locked batch (`batches.start_batch`: a fixed number
of statements per batch, the same writes); if that fails, the batch rolls back and its
schedules are handled one by one, each in its own savepoint (`handle_due`).
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from campaigns import windows
from campaigns.models import CampaignLog, Execution
from campaigns.schedules import occurrences
from campaigns.schedules.models import Schedule, ScheduleRun
from campaigns.services import begin_execution, log

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
                .prefetch_related("exceptions")
                .order_by("next_scheduled_at")[:batch_size]
            )
            handle_batch(schedules=due, at=now, counts=counts)
        counts["schedules"] += len(due)
        if len(due) < batch_size:
            break
    counts["started"] += start_buffered(at=at)
    return counts


def has_more_due(*, at=None) -> bool:
    now = at or windows.now()
    return Schedule.objects.filter(is_active=True, is_paused=False, next_scheduled_at__lte=now).exists()


def handle_batch(*, schedules: list[Schedule], at, counts: dict) -> None:
    """A claimed batch set-wise (`batches.start_batch`); one by one, each in its savepoint, if that fails."""
    if len(schedules) > 1:
        from campaigns.schedules.batches import start_batch

        batch_counts = dict.fromkeys(counts, 0)
        try:
            with transaction.atomic():
                start_batch(schedules=schedules, at=at, counts=batch_counts)
        except Exception:  # e.g. one audience's query fails: the one-by-one path isolates it (logged)
            logger.exception("schedules %s…: the batch start failed; handling them one by one", schedules[0].id)
        else:
            for name, value in batch_counts.items():
                counts[name] += value
            return
    for schedule in schedules:
        try:
            with transaction.atomic():
                handle_due(schedule=schedule, at=at, counts=counts)
        except Exception:  # one broken schedule must not hold the others back (logged)
            logger.exception("schedule %s: handling the due occurrence failed; retried later", schedule.id)
            Schedule.objects.filter(id=schedule.id).update(next_scheduled_at=at + RETRY_AFTER)


@dataclass
class Due:
    """What the calculator says of a due schedule: occurrences missed, the one to handle, the next one."""

    schedule: Schedule
    late: list
    occurrence: occurrences.Occurrence | None
    upcoming_at: datetime | None


def plan_due(*, schedule: Schedule, at) -> Due:
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
    after = max(at, due[-1].at) if due else at
    upcoming = occurrences.next_occurrence(schedule, exceptions, after=after)
    occurrence = due[-1] if due and due[-1] not in late else None
    return Due(schedule, late, occurrence, upcoming.at if upcoming else None)


def handle_due(*, schedule: Schedule, at, counts: dict) -> None:
    due = plan_due(schedule=schedule, at=at)
    if due.late:
        record_missed(schedule=schedule, missed=due.late, at=at)
        counts["missed"] += len(due.late)
    changes = {}
    if due.occurrence is not None:
        run = take_run(schedule=schedule, occurrence=due.occurrence)
        if run is not None:
            outcome = decide(schedule=schedule, run=run)
            counts[outcome] += 1
            if outcome == "started":
                changes = {"last_executed_at": run.started_at, "execution_count": F("execution_count") + 1}
    schedule.next_scheduled_at = due.upcoming_at
    Schedule.objects.filter(id=schedule.id).update(next_scheduled_at=schedule.next_scheduled_at, **changes)


def deadline(schedule: Schedule, occurrence: occurrences.Occurrence):
    """The latest an occurrence may start: its catch-up window, and never past its execution window."""
    latest = occurrence.at + schedule.catchup_window
    closes = occurrences.window_end_after(occurrence.at, schedule)
    if closes is not None and closes > occurrence.at:
        latest = min(latest, closes)
    return latest


def take_run(*, schedule: Schedule, occurrence) -> ScheduleRun | None:
    """The occurrence's unique run row, or None when someone already took it."""
    return take_runs([(schedule, occurrence)]).get(schedule.id)


def take_runs(due: list[tuple]) -> dict[int, ScheduleRun]:
    """The unique run rows of (schedule, occurrence) pairs, by schedule id: those this ticker took.

    One `INSERT … ON CONFLICT DO NOTHING RETURNING` (PostgreSQL, SQLite ≥ 3.35): no
    savepoint, and the answer says which occurrences this ticker took.
    """
    if not due:
        return {}
    created_at = windows.now()
    runs = {
        schedule.id: ScheduleRun(
            schedule=schedule,
            scheduled_for=occurrence.at,
            status=ScheduleRun.Status.BUFFERED,
            settings=occurrence.modified,
            created_at=created_at,
        )
        for schedule, occurrence in due
    }
    fields = [ScheduleRun._meta.get_field(name) for name in RUN_COLUMNS]
    values = [
        field.get_db_prep_save(getattr(run, field.attname), connection) for run in runs.values() for field in fields
    ]
    row = f"({', '.join(['%s'] * len(fields))})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ScheduleRun._meta.db_table} ({', '.join(f.column for f in fields)}) "
            f"VALUES {', '.join([row] * len(runs))} "
            "ON CONFLICT (schedule_id, scheduled_for) DO NOTHING RETURNING id, schedule_id",
            values,
        )
        taken = dict((schedule_id, run_id) for run_id, schedule_id in cursor.fetchall())
    for schedule_id, run in runs.items():
        if schedule_id not in taken:
            logger.info("schedule %s: occurrence %s already handled", schedule_id, run.scheduled_for.isoformat())
            continue
        run.pk = taken[schedule_id]
        run._state.adding = False
    return {schedule_id: run for schedule_id, run in runs.items() if schedule_id in taken}


RUN_COLUMNS = ("schedule", "scheduled_for", "kind", "status", "reason", "detail", "settings", "created_at")


def decide(*, schedule: Schedule, run: ScheduleRun) -> str:
    """Apply the overlap policy to a fresh run: start it, leave it buffered, or skip it.

    The start's own check of live executions is the overlap test (skip and buffer_one
    allow none alongside; allow up to max_concurrent_executions), so a start costs no
    extra count.
    """
    policy = schedule.overlap_policy
    execution, busy = start_run(schedule=schedule, run=run, max_live=None if policy == "allow" else 1)
    if execution is not None:
        return "started"
    if not busy:
        return "skipped"  # refused for another reason (campaign paused, archived…): recorded by start_run
    if policy == Schedule.OverlapPolicy.BUFFER_ONE:
        waiting = ScheduleRun.objects.filter(schedule=schedule, status=ScheduleRun.Status.BUFFERED).exclude(id=run.id)
        if not waiting.exists():
            return "buffered"
    skip_run(schedule=schedule, run=run, reason="overlap", detail=_("An execution of this campaign is running."))
    return "skipped"


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


def start_run(
    *, schedule: Schedule, run: ScheduleRun, user=None, strict: bool = False, max_live: int | None = None
) -> tuple[Execution | None, bool]:
    """Start the run's execution with the manual start's service: (execution, False) when it started.

    Over the live-executions limit it returns (None, True) and leaves the run to the
    caller's overlap policy; any other refusal skips the run (or raises, if strict).
    Called inside a transaction; no savepoint per start: a refusal is raised before the
    start writes anything. One dispatcher task per execution (no fan-out): a batch of
    starts must not bury the ticker's own tasks under dispatchers.
    """
    at = windows.now()
    try:
        execution = begin_execution(
            campaign=schedule.campaign,
            user=user,
            execution_type=Execution.Type.SCHEDULED,
            trigger_event=run.scheduled_for.isoformat(),
            settings=run.settings,
            max_live=max_live,
            fan_out=False,
        )
    except ValidationError as error:
        if strict:
            raise
        if "max_concurrent_executions" in error.message_dict:
            return None, True
        skip_run(schedule=schedule, run=run, reason="refused", detail=refusal_detail(error))
        return None, False
    ScheduleRun.objects.filter(id=run.id).update(status=ScheduleRun.Status.STARTED, execution=execution, started_at=at)
    run.status, run.execution, run.started_at = ScheduleRun.Status.STARTED, execution, at
    return execution, False


def refusal_detail(error: ValidationError) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())


def record_missed(*, schedule: Schedule, missed: list, at) -> None:
    record_missed_many([(schedule, missed)], at=at)


def record_missed_many(missed_by_schedule: list[tuple], *, at) -> None:
    """Each (schedule, occurrences) pair's `missed` runs (one INSERT) and log entries (one INSERT)."""
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
            for schedule, missed in missed_by_schedule
            for o in missed
        ],
        ignore_conflicts=True,
    )
    CampaignLog.objects.bulk_create(
        [
            log_entry(
                schedule=schedule,
                type=CampaignLog.Type.OCCURRENCE_MISSED,
                message=_(
                    "%(n)d scheduled occurrence(s) missed (from %(first)s to %(last)s): past the catch-up window."
                )
                % {"n": len(missed), "first": missed[0].at.isoformat(), "last": missed[-1].at.isoformat()},
                details={"missed": [o.at.isoformat() for o in missed[:100]], "at": at.isoformat()},
            )
            for schedule, missed in missed_by_schedule
        ]
    )


def log_entry(*, schedule: Schedule, type: str, message: str, details: dict) -> CampaignLog:
    """An unsaved warning of the schedule's campaign log (what `log` writes, for a bulk INSERT)."""
    campaign = schedule.campaign
    return CampaignLog(
        organization_id=campaign.organization_id,
        campaign=campaign,
        type=type,
        severity=CampaignLog.Severity.WARNING,
        message=str(message),
        details=details,
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
            limit = run.settings.get("max_concurrent_executions") or schedule.campaign.max_concurrent_executions
            max_live = limit if schedule.overlap_policy == Schedule.OverlapPolicy.ALLOW else 1
            execution, _busy = start_run(schedule=schedule, run=run, max_live=max_live)  # busy: it waits on
            if execution is not None:
                count_start(schedule=schedule, at=run.started_at)
                started += 1
    return started


def count_start(*, schedule: Schedule, at) -> None:
    Schedule.objects.filter(id=schedule.id).update(last_executed_at=at, execution_count=F("execution_count") + 1)
