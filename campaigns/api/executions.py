"""The executions API (`/api/v1/executions`): an execution, its recipients and their CSV."""

import csv

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.tenancy import TenantReadOnlyViewSet
from campaigns import queries, stats
from campaigns.api import schema
from campaigns.models import Execution, Recipient
from campaigns.services import controls
from core.spreadsheets import safe_row


class UserRefSerializer(serializers.Serializer):
    """Who started an execution: `{id, username}`."""

    id = serializers.IntegerField()
    username = serializers.CharField()


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


class RequeueSerializer(serializers.Serializer):
    statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=Recipient.REQUEUEABLE), default=list(Recipient.REQUEUEABLE)
    )


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
