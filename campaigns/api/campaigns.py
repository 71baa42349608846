"""The flow-automations API (`/api/v1/flow-automations`).

Field names follow what client code already sends: `chatbot_id` (flow template),
`flow_id`, `whatsapp_number_id` (the first sending number; `whatsapp_number_ids` for
several).
"""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.tenancy import TenantModelViewSet, TenantPrimaryKeyRelatedField
from campaigns import queries, stats
from campaigns.api import schema
from campaigns.api.executions import ExecutionDetailSerializer, ExecutionSerializer
from campaigns.models import Campaign, Schedule
from campaigns.services import authoring, controls, starting
from flows.models import Flow, FlowTemplate
from instances.models import WhatsAppInstance


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
    # The old dispatch modal's "start later" sends the time beside trigger_type, not in trigger_config.
    scheduled_at = serializers.CharField(write_only=True, required=False, max_length=64)
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
            "scheduled_at",
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
        scheduled_at = attrs.pop("scheduled_at", None)
        if scheduled_at is not None and attrs.get("trigger_type") == Campaign.TriggerType.SCHEDULED:
            config = attrs.get("trigger_config") if isinstance(attrs.get("trigger_config"), dict) else {}
            attrs["trigger_config"] = {"scheduled_at": scheduled_at, **config}
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


class StartSerializer(serializers.Serializer):
    test_mode = serializers.BooleanField(default=False)
    test_contact_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), default=list)


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
