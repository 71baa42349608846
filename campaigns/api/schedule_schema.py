"""The schedule API's bodies as OpenAPI components (the views build plain dicts; these describe them)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from campaigns.schedules.models import Schedule, ScheduleException, ScheduleRun


class ScheduleSerializer(serializers.Serializer):
    """What `schedule_data` answers, and what POST/PUT take (`validation` reads them, naming the field)."""

    id = serializers.IntegerField(read_only=True)
    automation_id = serializers.IntegerField(read_only=True)
    organization_id = serializers.IntegerField(read_only=True)
    recurrence_type = serializers.ChoiceField(choices=Schedule.RecurrenceType.choices)
    start_date = serializers.CharField(help_text="A date, or an ISO time (2025-11-20T09:00:00Z).")
    start_time = serializers.TimeField(required=False, allow_null=True)
    end_date = serializers.CharField(required=False, allow_null=True)
    max_occurrences = serializers.IntegerField(required=False, allow_null=True)
    recurrence_config = serializers.DictField(
        required=False, help_text='e.g. {"days": ["MON", "WED"], "interval": 1} or {"expression": "0 9 * * MON-FRI"}'
    )
    execution_window_start = serializers.TimeField(required=False, allow_null=True)
    execution_window_end = serializers.TimeField(required=False, allow_null=True)
    execution_timezone = serializers.CharField(required=False, help_text="IANA, e.g. America/Sao_Paulo")
    blackout_dates = serializers.ListField(child=serializers.DateField(), required=False)
    skip_weekends = serializers.BooleanField(required=False)
    skip_holidays = serializers.BooleanField(required=False)
    holiday_country = serializers.CharField(required=False)
    holiday_subdivision = serializers.CharField(required=False, allow_blank=True)
    include_optional_holidays = serializers.BooleanField(required=False)
    overlap_policy = serializers.ChoiceField(choices=Schedule.OverlapPolicy.choices, required=False)
    catchup_window = serializers.IntegerField(required=False, help_text="Seconds, e.g. 3600")
    is_active = serializers.BooleanField(required=False)
    is_paused = serializers.BooleanField(read_only=True)
    paused_at = serializers.DateTimeField(read_only=True, allow_null=True)
    pause_note = serializers.CharField(read_only=True)
    last_executed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    next_scheduled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    execution_count = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ScheduleExceptionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    schedule_id = serializers.IntegerField(required=False)
    exception_type = serializers.ChoiceField(choices=ScheduleException.Type.choices)
    start_date = serializers.DateTimeField()
    end_date = serializers.DateTimeField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True)
    rescheduled_to = serializers.DateTimeField(required=False, allow_null=True)
    modified_config = serializers.DictField(required=False)
    created_at = serializers.DateTimeField(read_only=True)


class ScheduleRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    schedule_id = serializers.IntegerField()
    scheduled_for = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=ScheduleRun.Kind.choices)
    status = serializers.ChoiceField(choices=ScheduleRun.Status.choices)
    reason = serializers.CharField()
    detail = serializers.CharField()
    settings = serializers.DictField()
    execution_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)


class WindowSerializer(serializers.Serializer):
    start = serializers.TimeField()
    end = serializers.TimeField()


class NextExecutionSerializer(serializers.Serializer):
    scheduled_at = serializers.DateTimeField()
    local_time = serializers.DateTimeField()
    recurrence_type = serializers.CharField()
    execution_window = WindowSerializer(allow_null=True)
    timezone = serializers.CharField()
    rescheduled = serializers.BooleanField()
    rescheduled_from = serializers.DateTimeField(allow_null=True)
    modified = serializers.BooleanField()
    modified_config = serializers.DictField()


class SkippedSerializer(serializers.Serializer):
    scheduled_at = serializers.DateTimeField()
    reason = serializers.CharField(help_text="blackout, weekend, holiday, exception, window")
    detail = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    automation_id = serializers.IntegerField()
    schedule_id = serializers.IntegerField()
    next_executions = NextExecutionSerializer(many=True)
    skipped = SkippedSerializer(many=True)


class PauseSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True)


class BackfillSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class BackfillAnswerSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    runs = ScheduleRunSerializer(many=True)


class ScheduleRunPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ScheduleRunSerializer(many=True)


TAG = ["flow-automations"]
schedule_read = extend_schema(tags=TAG, responses=ScheduleSerializer)
schedule_write = extend_schema(tags=TAG, request=ScheduleSerializer, responses=ScheduleSerializer)
schedule_add = extend_schema(tags=TAG, request=ScheduleSerializer, responses={201: ScheduleSerializer})
schedule_remove = extend_schema(tags=TAG, request=None, responses={204: None})
exceptions = extend_schema(
    tags=TAG,
    request=ScheduleExceptionSerializer,
    responses={200: ScheduleExceptionSerializer(many=True), 201: ScheduleExceptionSerializer},
)
exception_remove = extend_schema(
    tags=TAG,
    parameters=[OpenApiParameter("exception_id", int, OpenApiParameter.PATH)],
    request=None,
    responses={204: None},
)
preview = extend_schema(
    tags=TAG,
    parameters=[
        OpenApiParameter("num_executions", int, description="1–100, default 10"),
        OpenApiParameter("days_ahead", int, description="1–730, default 90"),
    ],
    responses=PreviewSerializer,
)
pause = extend_schema(tags=TAG, request=PauseSerializer, responses=ScheduleSerializer)
resume = extend_schema(tags=TAG, request=None, responses=ScheduleSerializer)
trigger = extend_schema(tags=TAG, request=None, responses={202: ScheduleRunSerializer})
backfill = extend_schema(tags=TAG, request=BackfillSerializer, responses={202: BackfillAnswerSerializer})
runs = extend_schema(tags=TAG, parameters=[OpenApiParameter("page", int)], responses=ScheduleRunPageSerializer)
