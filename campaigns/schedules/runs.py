"""Schedule runs: each occurrence's unique row, taken, started, skipped or recorded missed.

A `ScheduleRun` is unique per (schedule, occurrence instant), so whatever handles an
occurrence twice (two beats, two tickers, a retried task) finds the row taken and starts
nothing. Every run starts its execution through the one start
(`campaigns.services.starting.begin_executions`); the ticker (`ticker`) decides which
runs to take and when.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from campaigns import windows
from campaigns.models import CampaignLog, Execution
from campaigns.schedules.models import Schedule, ScheduleRun
from campaigns.services.starting import begin_execution
from core.db import update_rows

logger = logging.getLogger(__name__)

RUN_COLUMNS = ("schedule", "scheduled_for", "kind", "status", "reason", "detail", "settings", "created_at")


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


def already_waiting(busy: list[tuple]) -> set[int]:
    """The schedules among `busy` (schedule, run) that already have another run waiting (`buffered`)."""
    if not busy:
        return set()
    return set(
        ScheduleRun.objects.filter(schedule_id__in=[s.id for s, _r in busy], status=ScheduleRun.Status.BUFFERED)
        .exclude(id__in=[r.id for _s, r in busy])
        .values_list("schedule_id", flat=True)
    )


def skip_runs(skipped: list[tuple]) -> None:
    """Skip many (schedule, run, reason, detail): the runs in one UPDATE, their log entries in one INSERT."""
    if not skipped:
        return
    update_rows(
        ScheduleRun,
        ["status", "reason", "detail"],
        [(run.id, ScheduleRun.Status.SKIPPED, reason, detail[:500]) for _schedule, run, reason, detail in skipped],
    )
    for _schedule, run, reason, detail in skipped:
        run.status, run.reason, run.detail = ScheduleRun.Status.SKIPPED, reason, detail
    CampaignLog.objects.bulk_create(
        [
            log_entry(
                schedule=schedule,
                type=CampaignLog.Type.OCCURRENCE_SKIPPED,
                message=_("Scheduled occurrence of %(at)s skipped: %(detail)s")
                % {"at": run.scheduled_for.isoformat(), "detail": detail},
                details={"scheduled_for": run.scheduled_for.isoformat(), "reason": reason},
            )
            for schedule, run, reason, detail in skipped
        ]
    )


def record_missed(missed_by_schedule: list[tuple], *, at) -> None:
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


def refusal_detail(error: ValidationError) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())


def start_run(
    *, schedule: Schedule, run: ScheduleRun, user=None, strict: bool = False, max_live: int | None = None
) -> tuple[Execution | None, bool]:
    """Start one run's execution with the manual start's service: (execution, False) when it started.

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
        skip_runs([(schedule, run, "refused", refusal_detail(error))])
        return None, False
    ScheduleRun.objects.filter(id=run.id).update(status=ScheduleRun.Status.STARTED, execution=execution, started_at=at)
    run.status, run.execution, run.started_at = ScheduleRun.Status.STARTED, execution, at
    return execution, False


def count_start(*, schedule: Schedule, at) -> None:
    Schedule.objects.filter(id=schedule.id).update(last_executed_at=at, execution_count=F("execution_count") + 1)


@transaction.atomic
def trigger_schedule(*, schedule: Schedule, user=None) -> ScheduleRun:
    """One run now, outside the recurrence (recorded as kind "manual"), through the usual start."""
    schedule = Schedule.objects.select_for_update().select_related("campaign").get(id=schedule.id)
    run = ScheduleRun.objects.create(
        schedule=schedule, scheduled_for=windows.now(), kind=ScheduleRun.Kind.MANUAL, status=ScheduleRun.Status.BUFFERED
    )
    start_run(schedule=schedule, run=run, user=user, strict=True)
    count_start(schedule=schedule, at=run.started_at)
    return run
