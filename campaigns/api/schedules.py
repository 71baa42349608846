"""`/api/v1/flow-automations/{id}/schedule…`: the old Flow Automation API's schedule paths.

One schedule per automation. Bodies are read by `validation` (errors name the field,
e.g. `recurrence_config.days[1]`); every change goes through `services`. The campaign is
looked up through the tenant-scoped queryset, so another organization's is a 404 and a
viewer's write a 403, as everywhere else.
"""

from datetime import UTC

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from rest_framework import status, viewsets
from rest_framework.response import Response

from accounts.tenancy import TenantScopedMixin
from campaigns.api import schedule_schema as schema
from campaigns.models import Campaign
from campaigns.schedules import runs, services, validation
from campaigns.schedules.models import Schedule, ScheduleException, ScheduleRun


def iso(value):
    if value is None:
        return None
    if hasattr(value, "tzinfo") and hasattr(value, "hour") and hasattr(value, "year"):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def schedule_data(schedule: Schedule) -> dict:
    return {
        "id": schedule.id,
        "automation_id": schedule.campaign_id,
        "organization_id": schedule.organization_id,
        "recurrence_type": schedule.recurrence_type,
        "start_date": iso(schedule.start_date),
        "start_time": iso(schedule.start_time),
        "end_date": iso(schedule.end_date),
        "max_occurrences": schedule.max_occurrences,
        "recurrence_config": schedule.recurrence_config,
        "execution_window_start": iso(schedule.execution_window_start),
        "execution_window_end": iso(schedule.execution_window_end),
        "execution_timezone": schedule.execution_timezone,
        "blackout_dates": schedule.blackout_dates,
        "skip_weekends": schedule.skip_weekends,
        "skip_holidays": schedule.skip_holidays,
        "holiday_country": schedule.holiday_country,
        "holiday_subdivision": schedule.holiday_subdivision,
        "include_optional_holidays": schedule.include_optional_holidays,
        "overlap_policy": schedule.overlap_policy,
        "catchup_window": int(schedule.catchup_window.total_seconds()),
        "is_active": schedule.is_active,
        "is_paused": schedule.is_paused,
        "paused_at": iso(schedule.paused_at),
        "pause_note": schedule.pause_note,
        "last_executed_at": iso(schedule.last_executed_at),
        "next_scheduled_at": iso(schedule.next_scheduled_at),
        "execution_count": schedule.execution_count,
        "created_at": iso(schedule.created_at),
        "updated_at": iso(schedule.updated_at),
    }


def exception_data(exception: ScheduleException) -> dict:
    return {
        "id": exception.id,
        "schedule_id": exception.schedule_id,
        "exception_type": exception.exception_type,
        "start_date": iso(exception.start_date),
        "end_date": iso(exception.end_date),
        "reason": exception.reason,
        "rescheduled_to": iso(exception.rescheduled_to),
        "modified_config": exception.modified_config,
        "created_at": iso(exception.created_at),
    }


def run_data(run: ScheduleRun) -> dict:
    return {
        "id": run.id,
        "schedule_id": run.schedule_id,
        "scheduled_for": iso(run.scheduled_for),
        "kind": run.kind,
        "status": run.status,
        "reason": run.reason,
        "detail": run.detail,
        "settings": run.settings,
        "execution_id": run.execution_id,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
    }


def _bounded(params, name: str, default: int, low: int, high: int) -> int:
    value = params.get(name, default)
    if not str(value).isdigit() or not low <= int(value) <= high:
        raise ValidationError({name: f"Must be a whole number from {low} to {high}."})
    return int(value)


class ScheduleViewSet(TenantScopedMixin, viewsets.GenericViewSet):
    """Nested under one automation, so its actions are not the router's list/detail
    `create`/`destroy` (their URLs take the automation's id)."""

    queryset = Campaign.objects.filter(deleted_at__isnull=True)
    serializer_class = schema.ScheduleSerializer  # describes the bodies; `validation` reads them
    filter_backends = []

    def _schedule(self) -> Schedule:
        return get_object_or_404(Schedule, campaign=self.get_object())

    @schema.schedule_read
    def read(self, request, pk=None):
        return Response(schedule_data(self._schedule()))

    @schema.schedule_add
    def add(self, request, pk=None):
        schedule = services.create_schedule(campaign=self.get_object(), data=request.data)
        return Response(schedule_data(schedule), status=status.HTTP_201_CREATED)

    @schema.schedule_write
    def change(self, request, pk=None):
        schedule = services.update_schedule(schedule=self._schedule(), data=request.data)
        return Response(schedule_data(schedule))

    @schema.schedule_remove
    def remove(self, request, pk=None):
        services.delete_schedule(schedule=self._schedule())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @schema.exceptions
    def exceptions(self, request, pk=None):
        schedule = self._schedule()
        if request.method == "POST":
            exception = services.add_exception(schedule=schedule, data=request.data)
            return Response(exception_data(exception), status=status.HTTP_201_CREATED)
        return Response([exception_data(e) for e in schedule.exceptions.all()])

    @schema.exception_remove
    def delete_exception(self, request, pk=None, exception_id=None):
        exception = get_object_or_404(ScheduleException, schedule=self._schedule(), id=exception_id)
        services.delete_exception(exception=exception)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @schema.preview
    def preview(self, request, pk=None):
        count = _bounded(request.query_params, "num_executions", 10, 1, 100)
        days = _bounded(request.query_params, "days_ahead", 90, 1, 730)
        schedule = self._schedule()
        result = services.preview(schedule=schedule, count=count, days_ahead=days)
        window = None
        if schedule.execution_window_start is not None:
            window = {"start": iso(schedule.execution_window_start), "end": iso(schedule.execution_window_end)}
        return Response(
            {
                "automation_id": schedule.campaign_id,
                "schedule_id": schedule.id,
                "next_executions": [
                    {
                        "scheduled_at": iso(o.at),
                        "local_time": o.at.astimezone(validation.ZoneInfo(schedule.execution_timezone)).isoformat(),
                        "recurrence_type": schedule.recurrence_type,
                        "execution_window": window,
                        "timezone": schedule.execution_timezone,
                        "rescheduled": o.rescheduled_from is not None,
                        "rescheduled_from": iso(o.rescheduled_from),
                        "modified": bool(o.modified),
                        "modified_config": o.modified,
                    }
                    for o in result.occurrences
                ],
                "skipped": [
                    {"scheduled_at": iso(s.at), "reason": s.reason, "detail": s.detail} for s in result.skipped
                ],
            }
        )

    @schema.pause
    def pause(self, request, pk=None):
        note = request.data.get("note", "") if hasattr(request.data, "get") else ""
        return Response(schedule_data(services.pause_schedule(schedule=self._schedule(), note=note)))

    @schema.resume
    def resume(self, request, pk=None):
        return Response(schedule_data(services.resume_schedule(schedule=self._schedule())))

    @schema.trigger
    def trigger(self, request, pk=None):
        run = runs.trigger_schedule(schedule=self._schedule(), user=request.user)
        return Response(run_data(run), status=status.HTTP_202_ACCEPTED)

    @schema.backfill
    def backfill(self, request, pk=None):
        schedule = self._schedule()
        data = request.data if hasattr(request.data, "get") else {}
        for name in ("start", "end"):
            if data.get(name) in (None, ""):
                raise ValidationError({name: "This field is required."})
        start = validation.parse_datetime(data["start"], "start", schedule.execution_timezone)
        end = validation.parse_datetime(data["end"], "end", schedule.execution_timezone)
        runs = services.backfill_schedule(schedule=schedule, start=start, end=end)
        return Response({"queued": len(runs), "runs": [run_data(r) for r in runs]}, status=status.HTTP_202_ACCEPTED)

    @schema.runs
    def runs(self, request, pk=None):
        page = self.paginate_queryset(ScheduleRun.objects.filter(schedule=self._schedule()).order_by("-scheduled_for"))
        return self.get_paginated_response([run_data(r) for r in page])


def urlpatterns():
    from django.urls import re_path

    base = r"^flow-automations/(?P<pk>\d+)/schedule"
    view = ScheduleViewSet.as_view
    return [
        re_path(
            base + r"/?$",
            view({"get": "read", "post": "add", "put": "change", "patch": "change", "delete": "remove"}),
            name="flow-automation-schedule",
        ),
        re_path(base + r"/exceptions/?$", view({"get": "exceptions", "post": "exceptions"})),
        re_path(base + r"/exceptions/(?P<exception_id>\d+)/?$", view({"delete": "delete_exception"})),
        re_path(base + r"/preview/?$", view({"get": "preview"})),
        re_path(base + r"/pause/?$", view({"post": "pause"})),
        re_path(base + r"/resume/?$", view({"post": "resume"})),
        re_path(base + r"/trigger/?$", view({"post": "trigger"})),
        re_path(base + r"/backfill/?$", view({"post": "backfill"})),
        re_path(base + r"/runs/?$", view({"get": "runs"})),
    ]
