"""The ticker: due occurrences become executions, exactly once each.

`tick()` runs from the beat task (every 30 s) and may run in several processes at once:

1. It locks a batch of due schedules (`next_scheduled_at <= now`, active, not paused)
   with `FOR UPDATE SKIP LOCKED`, so each schedule is handled by one ticker at a time.
2. For each, it asks the calculator for the occurrences in [next_scheduled_at, now].
   The latest one still inside its catch-up window (`catchup_window`, and never past
   the end of its execution window) is handled; every other one is recorded `missed`
   (with one campaign log entry), so downtime never fires a burst of stale starts.
3. Handling an occurrence inserts its `ScheduleRun` (unique per schedule and instant: a
   second ticker, beat or retried task finds it and starts nothing, `runs.take_runs`),
   applies the overlap policy and starts the execution through the manual start's
   `begin_executions` (type "scheduled", `trigger_event` = the occurrence, `settings` =
   its `modify` exceptions), all in the transaction that advances `next_scheduled_at`.
4. Then it starts the oldest `buffered` run of each schedule whose campaign is free
   (buffer_one, backfills).

Steps 2–3 run set-wise for a whole locked batch (`start_batch`: a fixed number of
statements per batch); if that fails, the batch rolls back and its schedules are handled
as batches of one, each in its own savepoint, so one bad schedule costs the batch its
speed, never the others their start.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from campaigns import windows
from campaigns.models import Execution
from campaigns.schedules import occurrences
from campaigns.schedules.models import Schedule, ScheduleRun
from campaigns.schedules.runs import (
    already_waiting,
    count_start,
    record_missed,
    refusal_detail,
    skip_runs,
    start_run,
    take_runs,
)
from campaigns.services.starting import Start, begin_executions
from core.db import update_rows

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
    """A claimed batch set-wise (`start_batch`); as batches of one, each in its savepoint, if that fails."""
    if len(schedules) > 1:
        batch_counts = dict.fromkeys(counts, 0)
        try:
            with transaction.atomic():
                start_batch(schedules=schedules, at=at, counts=batch_counts)
        except Exception:  # e.g. one audience's query fails: batches of one isolate it (logged)
            logger.exception("schedules %s…: the batch start failed; handling them one by one", schedules[0].id)
        else:
            for name, value in batch_counts.items():
                counts[name] += value
            return
    for schedule in schedules:
        try:
            with transaction.atomic():
                start_batch(schedules=[schedule], at=at, counts=counts)
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


def deadline(schedule: Schedule, occurrence: occurrences.Occurrence):
    """The latest an occurrence may start: its catch-up window, and never past its execution window."""
    latest = occurrence.at + schedule.catchup_window
    closes = occurrences.window_end_after(occurrence.at, schedule)
    if closes is not None and closes > occurrence.at:
        latest = min(latest, closes)
    return latest


def start_batch(*, schedules: list[Schedule], at, counts: dict) -> None:
    """Handle due schedules in a fixed number of statements, whatever their number.

    1. the calculator's answer for each schedule (`plan_due`, Python only);
    2. the `missed` runs and their log entries, one INSERT each;
    3. the occurrences' unique run rows, one `INSERT … ON CONFLICT DO NOTHING RETURNING`
       (what another ticker already took is left alone);
    4. the starts through `begin_executions`, with each schedule's overlap limit;
    5. the overlap policy for those over it (`buffer_one` waits when no other run of the
       schedule waits, else skipped), the refusals skipped; runs, logs and schedules each
       written in one statement.
    """
    plans = [plan_due(schedule=schedule, at=at) for schedule in schedules]
    missed = [(due.schedule, due.late) for due in plans if due.late]
    if missed:
        record_missed(missed, at=at)
        counts["missed"] += sum(len(late) for _schedule, late in missed)
    runs = take_runs([(due.schedule, due.occurrence) for due in plans if due.occurrence is not None])
    taken = [(due.schedule, runs[due.schedule.id]) for due in plans if due.schedule.id in runs]
    started_at = windows.now()
    results = taken and begin_executions(
        starts=[
            Start(
                campaign_id=schedule.campaign_id,
                execution_type=Execution.Type.SCHEDULED,
                trigger_event=run.scheduled_for.isoformat(),
                settings=run.settings,
                max_live=None if schedule.overlap_policy == Schedule.OverlapPolicy.ALLOW else 1,
            )
            for schedule, run in taken
        ]
    )
    started, busy, skipped = {}, [], []
    for (schedule, run), result in zip(taken, results, strict=True):
        if isinstance(result, Execution):
            started[schedule.id] = (run, result)
        elif "max_concurrent_executions" in result.message_dict:
            busy.append((schedule, run))
        else:
            skipped.append((schedule, run, "refused", refusal_detail(result)))
    waiting = already_waiting(
        [(schedule, run) for schedule, run in busy if schedule.overlap_policy == Schedule.OverlapPolicy.BUFFER_ONE]
    )
    for schedule, run in busy:
        if schedule.overlap_policy == Schedule.OverlapPolicy.BUFFER_ONE and schedule.id not in waiting:
            counts["buffered"] += 1  # the run stays `buffered`: `start_buffered` starts it when the campaign is free
        else:
            skipped.append((schedule, run, "overlap", _("An execution of this campaign is running.")))
    skip_runs(skipped)
    counts["skipped"] += len(skipped)
    counts["started"] += len(started)
    update_rows(
        ScheduleRun,
        ["status", "execution_id", "started_at"],
        [(run.id, ScheduleRun.Status.STARTED, execution.id, started_at) for run, execution in started.values()],
    )
    # The schedules are locked by the claim: what they were read with is what they hold.
    update_rows(
        Schedule,
        ["next_scheduled_at", "last_executed_at", "execution_count"],
        [
            (due.schedule.id, due.upcoming_at, started_at, due.schedule.execution_count + 1)
            if due.schedule.id in started
            else (due.schedule.id, due.upcoming_at, due.schedule.last_executed_at, due.schedule.execution_count)
            for due in plans
        ],
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
