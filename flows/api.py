"""Flow design and conversations over the API (`/api/v1/`): templates (chatbots) down to messages."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api import TenantModelViewSet, TenantPrimaryKeyRelatedField, TenantReadOnlyViewSet
from flows.models import Conversation, Flow, FlowMessage, FlowTemplate, MessageHistory, ReceivedFile, Subflow
from flows.queries import conversations_with_names, templates_with_counts
from flows.transfer import MESSAGE_FIELDS


class TemplateField(TenantPrimaryKeyRelatedField):
    pass


class FlowField(TenantPrimaryKeyRelatedField):
    organization_field = "template__organization"


class SubflowField(TenantPrimaryKeyRelatedField):
    organization_field = "flow__template__organization"


class ModelCleanMixin:
    """Runs the model's `clean()` so the API enforces the same rules as the admin."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        instance = model(**{**self._current(), **attrs})
        instance.clean()
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {f.name: getattr(self.instance, f.name) for f in self.Meta.model._meta.concrete_fields}


class FlowTemplateSerializer(serializers.ModelSerializer):
    flow_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = FlowTemplate
        fields = ["id", "organization", "name", "description", "is_active", "flow_count", "created_at", "updated_at"]
        read_only_fields = ["organization"]


class FlowSerializer(serializers.ModelSerializer):
    template = TemplateField(queryset=FlowTemplate.objects.all())

    class Meta:
        model = Flow
        fields = ["id", "template", "name", "description", "is_default", "is_active", "order_index", "updated_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        template = attrs.get("template") or getattr(self.instance, "template", None)
        is_default = attrs.get("is_default", getattr(self.instance, "is_default", False))
        if is_default and template is not None:
            others = template.flows.filter(is_default=True)
            if self.instance is not None:
                others = others.exclude(id=self.instance.id)
            if others.exists():
                raise serializers.ValidationError({"is_default": ["The template already has a default flow."]})
        return attrs


class SubflowSerializer(ModelCleanMixin, serializers.ModelSerializer):
    flow = FlowField(queryset=Flow.objects.all())
    parent = SubflowField(queryset=Subflow.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Subflow
        fields = ["id", "flow", "parent", "name", "description", "trigger_keywords", "order_index", "is_active"]


class FlowMessageSerializer(ModelCleanMixin, serializers.ModelSerializer):
    subflow = SubflowField(queryset=Subflow.objects.all())

    class Meta:
        model = FlowMessage
        fields = ["id", "subflow", *MESSAGE_FIELDS]


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


class FlowTemplateViewSet(TenantModelViewSet):
    """Chatbots: `GET/POST /templates` (with flow counts), `GET /templates/<id>/flows`."""

    queryset = FlowTemplate.objects.all()
    serializer_class = FlowTemplateSerializer
    search_fields = ["name"]
    filterset_fields = ["is_active"]

    def get_queryset(self):
        return templates_with_counts(super().get_queryset())

    def perform_create(self, serializer):
        template = serializer.save(organization=self.get_write_organization(), created_by=self.request.user)
        template.flow_count = 0  # what the list's annotation says of a new chatbot

    @extend_schema(responses=FlowSerializer(many=True))
    @action(detail=True, methods=["get"])
    def flows(self, request, pk=None):
        template = self.get_object()
        return Response(FlowSerializer(template.flows.order_by("order_index", "id"), many=True).data)


class FlowViewSet(TenantModelViewSet):
    queryset = Flow.objects.select_related("template")
    serializer_class = FlowSerializer
    organization_field = "template__organization"
    filterset_fields = ["template", "is_default", "is_active"]

    def perform_create(self, serializer):
        serializer.save()

    @extend_schema(responses=SubflowSerializer(many=True))
    @action(detail=True, methods=["get"])
    def subflows(self, request, pk=None):
        flow = self.get_object()
        return Response(SubflowSerializer(flow.subflows.order_by("order_index", "id"), many=True).data)


class SubflowViewSet(TenantModelViewSet):
    queryset = Subflow.objects.select_related("flow__template")
    serializer_class = SubflowSerializer
    organization_field = "flow__template__organization"
    filterset_fields = ["flow", "parent", "is_active"]

    def perform_create(self, serializer):
        serializer.save()

    @extend_schema(responses=FlowMessageSerializer(many=True))
    @action(detail=True, methods=["get"])
    def messages(self, request, pk=None):
        subflow = self.get_object()
        return Response(FlowMessageSerializer(subflow.messages.order_by("order_index", "id"), many=True).data)


class FlowMessageViewSet(TenantModelViewSet):
    queryset = FlowMessage.objects.select_related("subflow__flow__template")
    serializer_class = FlowMessageSerializer
    organization_field = "subflow__flow__template__organization"
    filterset_fields = ["subflow"]

    def perform_create(self, serializer):
        serializer.save()


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
    def history(self, request, pk=None):
        conversation = self.get_object()
        page = self.paginate_queryset(conversation.history.order_by("id"))
        return self.get_paginated_response(MessageHistorySerializer(page, many=True).data)


class ReceivedFileViewSet(TenantReadOnlyViewSet):
    queryset = ReceivedFile.objects.all()
    serializer_class = ReceivedFileSerializer
    filterset_fields = ["conversation", "contact", "file_type"]
