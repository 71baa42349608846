"""A claimed batch of due schedules handled set-wise: what `ticker.handle_due` does, per batch.

The same outcomes as handling each schedule in turn, in a fixed number of statements for
the whole batch instead of about a dozen per schedule:

1. the calculator's answer for each schedule (`ticker.plan_due`, Python only);
2. the `missed` runs and their log entries, one INSERT each;
3. the occurrences' unique run rows, one `INSERT … ON CONFLICT DO NOTHING RETURNING`
   (what another ticker already took is left alone);
4. the starts through `begin_executions` (the manual start's checks, audiences and
   variable snapshots, set-wise), with each schedule's overlap limit;
5. the overlap policy for those over it (`buffer_one` waits when no other run of the
   schedule waits, else skipped), the refusals skipped; runs, logs and schedules each
   written in one statement.

The caller runs it in a savepoint: any error rolls the whole batch back and the ticker
handles its schedules one by one instead (`ticker.handle_batch`), so one bad schedule
costs the batch its speed, never the others their start.
"""

from django.utils.translation import gettext as _

from campaigns import windows
from campaigns.models import CampaignLog, Execution
from campaigns.schedules.models import Schedule, ScheduleRun
from campaigns.schedules.ticker import log_entry, plan_due, record_missed_many, refusal_detail, take_runs
from campaigns.services.starting import Start, begin_executions
from config.db import update_rows


def start_batch(*, schedules: list[Schedule], at, counts: dict) -> None:
    plans = [plan_due(schedule=schedule, at=at) for schedule in schedules]
    missed = [(due.schedule, due.late) for due in plans if due.late]
    if missed:
        record_missed_many(missed, at=at)
        counts["missed"] += sum(len(late) for _schedule, late in missed)
    runs = take_runs([(due.schedule, due.occurrence) for due in plans if due.occurrence is not None])
    taken = [(due.schedule, runs[due.schedule.id]) for due in plans if due.schedule.id in runs]
    started_at = windows.now()
    results = taken and begin_executions(
        starts=[
            Start(
                campaign_id=schedule.campaign_id,
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


def already_waiting(busy: list[tuple]) -> set[int]:
    """The schedules among `busy` that already have another run waiting (`buffered`)."""
    if not busy:
        return set()
    return set(
        ScheduleRun.objects.filter(schedule_id__in=[s.id for s, _r in busy], status=ScheduleRun.Status.BUFFERED)
        .exclude(id__in=[r.id for _s, r in busy])
        .values_list("schedule_id", flat=True)
    )


def skip_runs(skipped: list[tuple]) -> None:
    """`ticker.skip_run` for many (schedule, run, reason, detail): the runs in one UPDATE, the logs in one INSERT."""
    if not skipped:
        return
    update_rows(
        ScheduleRun,
        ["status", "reason", "detail"],
        [(run.id, ScheduleRun.Status.SKIPPED, reason, detail[:500]) for _schedule, run, reason, detail in skipped],
    )
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
