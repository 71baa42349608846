"""Schedule workflows: create, update, delete, exceptions, pause/resume, backfill (run now: `runs`).

Every function takes keyword arguments and owns its transaction. `next_scheduled_at`
is always what the calculator (`occurrences`) gives after the later of now and the last
occurrence handled, so the ticker, the preview and the calendar agree.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from campaigns import windows
from campaigns.models import Campaign
from campaigns.schedules import occurrences, validation
from campaigns.schedules.models import Schedule, ScheduleException, ScheduleRun

MAX_BACKFILL_DAYS = 366


def last_handled(schedule: Schedule):
    return (
        ScheduleRun.objects.filter(schedule=schedule, kind=ScheduleRun.Kind.RECURRENCE)
        .order_by("-scheduled_for")
        .values_list("scheduled_for", flat=True)
        .first()
    )


def refresh_next(*, schedule: Schedule, at=None) -> None:
    """Recompute `next_scheduled_at` after a change (from now, or the last occurrence handled)."""
    at = at or windows.now()
    handled = last_handled(schedule)
    after = max(at, handled) if handled else at
    upcoming = occurrences.next_occurrence(schedule, schedule.exceptions.all(), after=after)
    schedule.next_scheduled_at = upcoming.at if upcoming else None
    Schedule.objects.filter(id=schedule.id).update(next_scheduled_at=schedule.next_scheduled_at)


def check_dates(schedule: Schedule) -> None:
    """A once/custom schedule whose every date is blocked is refused, naming the dates and why."""
    blocked = occurrences.finite_dates_blocked(schedule, schedule.exceptions.all() if schedule.pk else [])
    if blocked:
        field = "start_date" if schedule.recurrence_type == "once" else "recurrence_config.dates"
        reasons = "; ".join(f"{s.at.isoformat()}: {s.reason} ({s.detail})" for s in blocked)
        raise ValidationError(
            {field: _("Every date is blocked, so this schedule would never run: %(r)s.") % {"r": reasons}}
        )


@transaction.atomic
def create_schedule(*, campaign: Campaign, data: dict) -> Schedule:
    if Schedule.objects.filter(campaign=campaign).exists():
        raise ValidationError({"schedule": _("This automation already has a schedule; update it with PUT.")})
    fields = validation.schedule_fields(data, current=None, default_zone=campaign.time_zone)
    schedule = Schedule(organization_id=campaign.organization_id, campaign=campaign, **fields)
    check_dates(schedule)
    schedule.full_clean(exclude=["campaign", "organization"])
    schedule.save()
    refresh_next(schedule=schedule)
    return schedule


@transaction.atomic
def update_schedule(*, schedule: Schedule, data: dict) -> Schedule:
    schedule = Schedule.objects.select_for_update().get(id=schedule.id)
    fields = validation.schedule_fields(data, current=schedule, default_zone=schedule.execution_timezone)
    for name, value in fields.items():
        setattr(schedule, name, value)
    check_dates(schedule)
    schedule.full_clean(exclude=["campaign", "organization"])
    schedule.save(update_fields=[*fields, "updated_at"])
    refresh_next(schedule=schedule)
    return schedule


@transaction.atomic
def delete_schedule(*, schedule: Schedule) -> None:
    """Its runs go with it; the executions they started stay."""
    schedule.delete()


@transaction.atomic
def add_exception(*, schedule: Schedule, data: dict) -> ScheduleException:
    schedule = Schedule.objects.select_for_update().get(id=schedule.id)
    exception = ScheduleException(schedule=schedule, **validation.exception_fields(data, schedule=schedule))
    exception.full_clean(exclude=["schedule"])
    exception.save()
    check_dates(schedule)
    refresh_next(schedule=schedule)
    return exception


@transaction.atomic
def delete_exception(*, exception: ScheduleException) -> None:
    schedule = Schedule.objects.select_for_update().get(id=exception.schedule_id)
    exception.delete()
    refresh_next(schedule=schedule)


@transaction.atomic
def pause_schedule(*, schedule: Schedule, note: str = "") -> Schedule:
    note = validation._text(note, "note", 300)
    at = windows.now()
    Schedule.objects.filter(id=schedule.id).update(is_paused=True, paused_at=at, pause_note=note)
    schedule.is_paused, schedule.paused_at, schedule.pause_note = True, at, note
    return schedule


@transaction.atomic
def resume_schedule(*, schedule: Schedule) -> Schedule:
    """Occurrences that fell while it was paused are not run; it goes on from now."""
    schedule = Schedule.objects.select_for_update().get(id=schedule.id)
    Schedule.objects.filter(id=schedule.id).update(is_paused=False, paused_at=None, pause_note="")
    schedule.is_paused, schedule.paused_at, schedule.pause_note = False, None, ""
    refresh_next(schedule=schedule)
    return schedule


@transaction.atomic
def backfill_schedule(*, schedule: Schedule, start, end) -> list[ScheduleRun]:
    """Each occurrence of [start, end] that did not run waits (buffered) to start once, in order."""
    at = windows.now()
    if end < start:
        raise ValidationError({"end": _("Must not be before start.")})
    if end > at:
        raise ValidationError({"end": _("A backfill covers the past only.")})
    if end - start > timedelta(days=MAX_BACKFILL_DAYS):
        raise ValidationError({"end": _("At most %(n)d days at once.") % {"n": MAX_BACKFILL_DAYS}})
    schedule = Schedule.objects.select_for_update().get(id=schedule.id)
    due = occurrences.occurrences_between(schedule, schedule.exceptions.all(), start=start, end=end)
    existing = {
        run.scheduled_for: run
        for run in ScheduleRun.objects.filter(schedule=schedule, scheduled_for__in=[o.at for o in due])
    }
    queued = []
    for occurrence in due:
        run = existing.get(occurrence.at)
        if run is None:
            run = ScheduleRun.objects.create(
                schedule=schedule,
                scheduled_for=occurrence.at,
                kind=ScheduleRun.Kind.BACKFILL,
                status=ScheduleRun.Status.BUFFERED,
                settings=occurrence.modified,
            )
        elif run.status == ScheduleRun.Status.MISSED:
            ScheduleRun.objects.filter(id=run.id, status=ScheduleRun.Status.MISSED).update(
                status=ScheduleRun.Status.BUFFERED, kind=ScheduleRun.Kind.BACKFILL, settings=occurrence.modified
            )
        else:
            continue
        queued.append(run)
    return queued


def preview(*, schedule: Schedule, count: int, days_ahead: int, at=None) -> occurrences.Preview:
    return occurrences.preview(
        schedule, schedule.exceptions.all(), after=at or windows.now(), count=count, days_ahead=days_ahead
    )
