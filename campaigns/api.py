"""The flow-automations API (`/api/v1/flow-automations`, `/api/v1/executions`).

Field names follow what client code already sends: `chatbot_id` (flow template),
`flow_id`, `whatsapp_number_id` (the first sending number; `whatsapp_number_ids` for
several).
"""

import csv

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api import TenantModelViewSet, TenantPrimaryKeyRelatedField, TenantReadOnlyViewSet
from campaigns import api_schema as schema
from campaigns import queries, stats
from campaigns.models import Campaign, Execution, Recipient, Schedule
from campaigns.services import authoring, controls, starting
from config.spreadsheets import safe_row
from flows.models import Flow, FlowTemplate
from instances.models import WhatsAppInstance


class UserRefSerializer(serializers.Serializer):
    """Who started an execution: `{id, username}`."""

    id = serializers.IntegerField()
    username = serializers.CharField()


class FlowField(TenantPrimaryKeyRelatedField):
    organization_field = "template__organization"


class CampaignSerializer(serializers.ModelSerializer):
    chatbot_id = TenantPrimaryKeyRelatedField(source="template", queryset=FlowTemplate.objects.all())
    flow_id = FlowField(source="flow", queryset=Flow.objects.all())
    whatsapp_number_id = TenantPrimaryKeyRelatedField(
        queryset=WhatsAppInstance.objects.all(), write_only=True, required=False
    )
    whatsapp_number_ids = serializers.ListField(
        child=TenantPrimaryKeyRelatedField(queryset=WhatsAppInstance.objects.all()), write_only=True, required=False
    )
    # The schedule's next occurrence (`/flow-automations/{id}/schedule`), null without one.
    next_scheduled_at = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "organization",
            "name",
            "description",
            "chatbot_id",
            "flow_id",
            "whatsapp_number_id",
            "whatsapp_number_ids",
            "trigger_type",
            "trigger_config",
            "audience_type",
            "audience_config",
            "variable_mapping",
            "max_concurrent_executions",
            "rate_limit_per_hour",
            "min_interval_seconds",
            "interval_jitter_seconds",
            "pause_every_n_sends",
            "pause_seconds",
            "retry_failed",
            "max_retries",
            "execution_window_start",
            "execution_window_end",
            "time_zone",
            "status",
            "created_at",
            "updated_at",
            "total_executions",
            "total_sent",
            "total_delivered",
            "total_read",
            "total_replied",
            "total_completed",
            "total_failed",
            "last_executed_at",
            "next_scheduled_at",
        ]
        read_only_fields = [
            "organization",
            "status",
            "created_at",
            "updated_at",
            *[f for f in fields if f.startswith("total_")],
            "last_executed_at",
        ]

    def validate(self, attrs):
        numbers = list(attrs.pop("whatsapp_number_ids", []) or [])
        first = attrs.pop("whatsapp_number_id", None)
        if first is not None:
            numbers = [first, *[n for n in numbers if n.id != first.id]]
        if numbers:
            attrs["instances"] = numbers
        elif self.instance is None:
            raise serializers.ValidationError({"whatsapp_number_id": ["This field is required."]})
        return attrs

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_scheduled_at(self, campaign):
        try:
            schedule = campaign.schedule
        except Schedule.DoesNotExist:
            return None
        value = schedule.next_scheduled_at if schedule.is_active else None
        return serializers.DateTimeField().to_representation(value) if value else None

    def to_representation(self, campaign):
        data = super().to_representation(campaign)
        numbers = [link.instance_id for link in campaign.campaign_instances.all()]
        data["whatsapp_number_id"] = numbers[0] if numbers else None
        data["whatsapp_number_ids"] = numbers
        # The old API shows when a schedule starts it next; none until the campaign has one.
        data.setdefault("next_scheduled_at", None)
        return data


MESSAGE_COUNTS = ("sent", "delivered", "read", "replied", "completed")


class ExecutionSerializer(serializers.ModelSerializer):
    """An execution, with the old API's names beside ours and live counts from recipient states.

    `messages_<status>` count recipients that reached the status (a read message was
    delivered and sent too), as the campaign's `total_*` do; `messages_failed` the failed.
    A list passes the page's counts in the context (`status_counts`, one grouped query).
    """

    flow_automation_id = serializers.IntegerField(source="campaign_id", read_only=True)
    automation_id = serializers.IntegerField(source="campaign_id", read_only=True)
    execution_type = serializers.CharField(source="type", read_only=True)
    triggered_by = serializers.SerializerMethodField()

    class Meta:
        model = Execution
        fields = [
            "id",
            "flow_automation_id",
            "automation_id",
            "type",
            "execution_type",
            "triggered_by",
            "trigger_event",
            "status",
            "pause_reason",
            "pause_detail",
            "total_recipients",
            "waiting_until",
            "created_at",
            "started_at",
            "completed_at",
            "error_message",
            "errors",
            "stats",
        ]
        read_only_fields = fields

    @extend_schema_field(UserRefSerializer(allow_null=True))
    def get_triggered_by(self, execution):
        user = execution.triggered_by
        return {"id": user.id, "username": user.username} if user is not None else None

    def to_representation(self, execution):
        data = super().to_representation(execution)
        counts = _status_counts(execution, self.context)
        for name in MESSAGE_COUNTS:
            data[f"messages_{name}"] = sum(counts[status] for status in stats.REACHED[name])
        data["messages_failed"] = counts["failed"]
        return data


def _status_counts(execution, context) -> dict:
    counts = (context.get("status_counts") or {}).get(execution.id)
    if counts is None:
        counts = getattr(execution, "_status_counts", None)
    if counts is None:
        counts = stats.status_counts(execution.recipients.all())
    execution._status_counts = counts
    return counts


class ExecutionDetailSerializer(ExecutionSerializer):
    progress = serializers.SerializerMethodField()
    numbers = serializers.SerializerMethodField()

    class Meta(ExecutionSerializer.Meta):
        fields = [*ExecutionSerializer.Meta.fields, "progress", "numbers"]
        read_only_fields = fields

    def get_numbers(self, execution) -> list[dict] | None:
        """The campaign's numbers and whether each can send now (why an execution waits or paused).

        Lists leave it null (one query per row otherwise); the execution's own page has it.
        """
        if self.context.get("listing"):
            return None
        from instances.connection import describe

        return [describe(instance) for instance in execution.campaign.ordered_instances()]

    def get_progress(self, execution) -> dict:
        counts = _status_counts(execution, self.context)
        total = sum(counts.values())
        done = total - counts["pending"] - counts["sending"]
        return {
            "done": done,
            "total": total,
            "percent": round(100 * done / total, 1) if total else 100.0,
            "by_status": counts,
        }


class RecipientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Recipient
        fields = [
            "id",
            "contact_id",
            "phone",
            "status",
            "variables",
            "instance_id",
            "provider_message_id",
            "conversation_id",
            "retry_count",
            "started_at",
            "last_retry_at",
            "next_attempt_at",
            "error",
            "created_at",
            "sent_at",
            "delivered_at",
            "read_at",
            "replied_at",
            "completed_at",
            "failed_at",
        ]
        read_only_fields = fields


class StartSerializer(serializers.Serializer):
    test_mode = serializers.BooleanField(default=False)
    test_contact_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), default=list)


class RequeueSerializer(serializers.Serializer):
    statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=Recipient.REQUEUEABLE), default=list(Recipient.REQUEUEABLE)
    )


class CampaignViewSet(TenantModelViewSet):
    queryset = (
        Campaign.objects.filter(deleted_at__isnull=True)
        .select_related("schedule")
        .prefetch_related("campaign_instances")
    )
    serializer_class = CampaignSerializer
    filterset_fields = ["status", "trigger_type", "audience_type"]
    search_fields = ["name", "description"]
    ordering_fields = ["id", "name", "created_at", "last_executed_at"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = authoring.create_campaign(
            organization=self.get_write_organization(), created_by=self.request.user, **data
        )

    def perform_update(self, serializer):
        serializer.instance = authoring.update_campaign(campaign=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, campaign):
        authoring.delete_campaign(campaign=campaign, user=self.request.user)

    @extend_schema(request=StartSerializer, responses={202: ExecutionDetailSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        body = StartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        execution = starting.start_campaign(campaign=self.get_object(), user=request.user, **body.validated_data)
        data = ExecutionDetailSerializer(execution).data
        # The old answer's `started_at` is when the start was accepted; the execution's own
        # `started_at` is set when a dispatcher first runs it (GET shows that one).
        data["started_at"] = data["started_at"] or data["created_at"]
        return Response(data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """A campaign with a trigger (an inbound event) goes live without starting now."""
        return Response({"activated": authoring.activate_campaign(campaign=self.get_object())})

    @extend_schema(responses=ExecutionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def executions(self, request, pk=None):
        page = self.paginate_queryset(self.get_object().executions.select_related("triggered_by").order_by("-id"))
        counts = queries.execution_status_counts(execution_ids=[execution.id for execution in page])
        return self.get_paginated_response(ExecutionSerializer(page, many=True, context={"status_counts": counts}).data)

    @extend_schema(responses=schema.StatsSerializer)
    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        return Response(stats.summary(queries.campaign_recipients(campaign=self.get_object())))

    @extend_schema(request=None, responses=schema.PAUSED)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return Response({"paused": controls.pause_campaign(campaign=self.get_object(), user=request.user)})

    @extend_schema(request=None, responses=schema.RESUMED)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return Response({"resumed": controls.resume_campaign(campaign=self.get_object(), user=request.user)})

    @extend_schema(request=None, responses=schema.SKIPPED)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return Response({"skipped": controls.cancel_campaign(campaign=self.get_object(), user=request.user)})


class ExecutionViewSet(TenantReadOnlyViewSet):
    queryset = Execution.objects.select_related("campaign", "triggered_by")
    serializer_class = ExecutionDetailSerializer
    filterset_fields = ["status", "type", "campaign"]
    ordering_fields = ["id", "created_at"]

    def filter_queryset(self, queryset):
        # Query parameters filter the list; on a detail route `?status=` filters its recipients.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        counts = queries.execution_status_counts(execution_ids=[execution.id for execution in page])
        context = {**self.get_serializer_context(), "status_counts": counts, "listing": True}
        return self.get_paginated_response(self.get_serializer(page, many=True, context=context).data)

    @extend_schema(parameters=[schema.RECIPIENT_STATUS], responses=RecipientSerializer(many=True))
    @action(detail=True, methods=["get"])
    def recipients(self, request, pk=None):
        statuses = [s for s in request.query_params.getlist("status") if s]
        unknown = [s for s in statuses if s not in Recipient.Status.values]
        if unknown:
            return Response({"status": [f"Unknown status {unknown[0]!r}."]}, status=status.HTTP_400_BAD_REQUEST)
        recipients = queries.execution_recipients(execution=self.get_object(), statuses=statuses)
        page = self.paginate_queryset(recipients)
        return self.get_paginated_response(RecipientSerializer(page, many=True).data)

    @extend_schema(responses=schema.StatsSerializer)
    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        return Response(stats.summary(self.get_object().recipients.all()))

    @extend_schema(request=None, responses={200: ExecutionDetailSerializer, 409: schema.CONFLICT})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._control(controls.pause_execution(execution=self.get_object(), user=request.user))

    @extend_schema(request=None, responses={200: ExecutionDetailSerializer, 409: schema.CONFLICT})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._control(controls.resume_execution(execution=self.get_object(), user=request.user))

    @extend_schema(request=None, responses={200: ExecutionDetailSerializer, 409: schema.CONFLICT})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        execution = self.get_object()
        skipped = controls.cancel_execution(execution=execution, user=request.user)
        return self._control(execution.status == Execution.Status.CANCELLED, skipped=skipped)

    @extend_schema(request=RequeueSerializer, responses={200: ExecutionDetailSerializer, 409: schema.CONFLICT})
    @action(detail=True, methods=["post"])
    def requeue(self, request, pk=None):
        body = RequeueSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        execution = self.get_object()
        moved = controls.requeue_recipients(
            execution=execution, statuses=body.validated_data["statuses"], user=request.user
        )
        return self._control(True, requeued=moved)

    def _control(self, changed: bool, **extra):
        execution = self.get_object()
        if not changed:
            return Response(
                {"status": [f"Not possible while the execution is {execution.status}."]},
                status=status.HTTP_409_CONFLICT,
            )
        return Response({**ExecutionDetailSerializer(execution).data, **extra})

    @extend_schema(responses={(200, "text/csv"): schema.REPORT_CSV})
    @action(detail=True, methods=["get"], url_path="report.csv")
    def report(self, request, pk=None):
        execution = self.get_object()
        response = StreamingHttpResponse(_csv_lines(execution), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="execution-{execution.id}-{stamp}.csv"'
        return response


class _Echo:
    def write(self, value):
        return value


def _csv_lines(execution):
    writer = csv.writer(_Echo())
    yield writer.writerow(queries.REPORT_COLUMNS)
    for row in queries.report_rows(execution=execution):
        yield writer.writerow(safe_row(row))
