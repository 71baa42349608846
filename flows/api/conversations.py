"""Conversations over the API: active ones by default, with their history, activity and action runs;
and the files contacts sent.

The list and the history are the old chatbot's paths: a bare array of the first page (`?page=`
for the envelope, core.api.BareListPagination), with the old names beside ours —
`current_message` is the text (`current_message_id` the id); history rows carry
`message_text`, `is_from_bot`, `flow_message_id`, `contact_id` and `ticket_id`.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination

from accounts.tenancy import TenantReadOnlyViewSet
from core.api import BareListPagination
from flows.models import Conversation, FlowActivity, MessageHistory, ReceivedFile
from flows.queries import action_runs_of, conversations_with_names


class ConversationSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    contact_phone = serializers.CharField(source="contact.phone", read_only=True)
    template_name = serializers.CharField(read_only=True, allow_null=True)
    flow_name = serializers.CharField(source="flow.name", read_only=True, allow_null=True)
    subflow_name = serializers.CharField(source="subflow.name", read_only=True, allow_null=True)
    current_message = serializers.CharField(source="current_message.text", read_only=True, allow_null=True)
    current_message_id = serializers.PrimaryKeyRelatedField(source="current_message", read_only=True)
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
            "current_message_id",
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
    # The old chatbot's names for the same values.
    message_text = serializers.CharField(source="text", read_only=True)
    is_from_bot = serializers.BooleanField(source="from_bot", read_only=True)
    flow_message_id = serializers.PrimaryKeyRelatedField(source="flow_message", read_only=True)
    contact_id = serializers.PrimaryKeyRelatedField(source="contact", read_only=True)
    ticket_id = serializers.CharField(source="external_ticket_id", read_only=True)

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
            "message_text",
            "is_from_bot",
            "flow_message_id",
            "contact_id",
            "ticket_id",
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

    @property
    def pagination_class(self):
        return BareListPagination if self.action in ("list", "history") else PageNumberPagination

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

    @extend_schema(responses=MessageHistorySerializer(many=True))
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
