"""Conversations over the API: active ones by default, with their history, activity and action runs;
and the files contacts sent."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from accounts.tenancy import TenantReadOnlyViewSet
from flows.models import Conversation, FlowActivity, MessageHistory, ReceivedFile
from flows.queries import action_runs_of, conversations_with_names


class ConversationSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    contact_phone = serializers.CharField(source="contact.phone", read_only=True)
    template_name = serializers.CharField(read_only=True, allow_null=True)
    flow_name = serializers.CharField(source="flow.name", read_only=True, allow_null=True)
    subflow_name = serializers.CharField(source="subflow.name", read_only=True, allow_null=True)
    current_message_text = serializers.CharField(source="current_message.text", read_only=True, allow_null=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "organization",
            "contact",
            "contact_name",
            "contact_phone",
            "instance",
            "external_ticket_id",
            "external_ticket_status",
            "external_ticket_user_id",
            "flow",
            "template_name",
            "flow_name",
            "subflow",
            "subflow_name",
            "current_message",
            "current_message_text",
            "waiting_for",
            "variables",
            "status",
            "started_at",
            "last_interaction_at",
            "completed_at",
        ]


class FlowActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = FlowActivity
        fields = ["id", "kind", "duration_ms", "details", "created_at"]


class MessageHistorySerializer(serializers.ModelSerializer):
    from_bot = serializers.BooleanField(read_only=True)

    class Meta:
        model = MessageHistory
        fields = [
            "id",
            "direction",
            "from_bot",
            "message_type",
            "text",
            "media_url",
            "media_path",
            "flow_message",
            "provider_message_id",
            "created_at",
        ]


class ReceivedFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReceivedFile
        fields = [
            "id",
            "conversation",
            "contact",
            "original_name",
            "file",
            "file_type",
            "size",
            "media_url",
            "created_at",
        ]


class ConversationViewSet(TenantReadOnlyViewSet):
    """Active conversations by default; `?status=completed` (or `all`) for others."""

    queryset = Conversation.objects.all()
    serializer_class = ConversationSerializer
    filterset_fields = ["contact", "instance", "flow"]

    def get_queryset(self):
        queryset = conversations_with_names(super().get_queryset())
        status = self.request.query_params.get("status", Conversation.Status.ACTIVE)
        if self.action == "list" and status != "all":
            queryset = queryset.filter(status=status)
        return queryset

    @extend_schema(responses=MessageHistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def actions(self, request, pk=None):
        """The runs of the conversation's action steps: status, latency, error, result."""
        from integrations.api import ActionRunSerializer

        runs = action_runs_of(conversation=self.get_object())
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(ActionRunSerializer(page, many=True).data)

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        conversation = self.get_object()
        page = self.paginate_queryset(conversation.history.order_by("id"))
        return self.get_paginated_response(MessageHistorySerializer(page, many=True).data)

    @action(detail=True, methods=["get"])
    def activity(self, request, pk=None):
        """The engine's activity log of the conversation, newest first; `?kind=subflow_changed` filters."""
        conversation = self.get_object()
        rows = conversation.activity.order_by("-id")
        kind = request.query_params.get("kind")
        if kind:
            if kind not in FlowActivity.Kind.values:
                raise serializers.ValidationError({"kind": [f"Must be one of {', '.join(FlowActivity.Kind.values)}."]})
            rows = rows.filter(kind=kind)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(FlowActivitySerializer(page, many=True).data)


class ReceivedFileViewSet(TenantReadOnlyViewSet):
    queryset = ReceivedFile.objects.all()
    serializer_class = ReceivedFileSerializer
    filterset_fields = ["conversation", "contact", "file_type"]
