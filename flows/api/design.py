"""Flow design over the API (`/api/v1/`): templates (chatbots) down to messages.

The old chatbot's clients send other names for the same fields (`template_id`,
`flow_id`, `parent_subflow_id`, `subflow_id`, `message_text`): each serializer accepts
them (`ALIASES`, the project's name wins when both are sent) and answers both. A flow
message written with the old names waits for a reply unless told otherwise, as there.
Nested lists (`templates/<id>/flows`, `flows/<id>/subflows`) and `flow-templates`
show active rows only; `?include_inactive=true` shows the rest. A `null` for an optional
text (`description`, `created_by`) is the empty text; a PUT keeps the parent (template,
flow, subflow) its body omits. Lists: `/templates` answers the project's envelope,
`/flow-templates` a bare array and `/chatbots` `{count, next, previous, items}`, as their
old clients read them (core.api's paginations).
"""

from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.tenancy import TenantModelViewSet, TenantPrimaryKeyRelatedField
from core.api import BareListPagination, ItemsPagination
from flows.models import Flow, FlowMessage, FlowTemplate, Subflow
from flows.queries import templates_with_counts
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


class OldClientInputMixin:
    """`null` for an optional text is empty, and a PUT keeps the parent (`PARENT`) it omits."""

    PARENT = ""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.CharField) and field.allow_blank and not field.read_only:
                field.allow_null = True
        if self.PARENT and self.instance is not None:
            fields[self.PARENT].required = False
        return fields

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        for field in self.fields.values():
            if isinstance(field, serializers.CharField) and field.allow_blank and attrs.get(field.source, "") is None:
                attrs[field.source] = ""
        return attrs


class OldNamesMixin:
    """Accepts and answers the old API's field names: `ALIASES = {"old": "ours"}`."""

    ALIASES: dict = {}

    def to_internal_value(self, data):
        if hasattr(data, "get") and any(old in data for old in self.ALIASES):
            data = {key: data[key] for key in data}
            for old, ours in self.ALIASES.items():
                if old in data:
                    value = data.pop(old)
                    data.setdefault(ours, value)
            self.used_old_names = True
        return super().to_internal_value(data)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for old, ours in self.ALIASES.items():
            if ours in data:
                data[old] = data[ours]
        return data


def include_inactive(request) -> bool:
    return str(request.query_params.get("include_inactive", "")).lower() in ("1", "true", "yes")


def _count(obj, name: str, related) -> int:
    value = getattr(obj, name, None)
    return value if value is not None else related.filter(is_active=True).count()


class FlowTemplateSerializer(OldClientInputMixin, serializers.ModelSerializer):
    flow_count = serializers.IntegerField(read_only=True)
    flows_count = serializers.SerializerMethodField()
    created_by = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200)

    class Meta:
        model = FlowTemplate
        fields = [
            "id",
            "organization",
            "name",
            "description",
            "is_active",
            "flow_count",
            "flows_count",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["organization"]

    def get_flows_count(self, template) -> int:
        """Active flows (the old API's count); `flow_count` counts them all."""
        return _count(template, "active_flows_count", template.flows)

    def validate(self, attrs):
        # The old clients name the author in `created_by`; the token's user is who created it.
        attrs.pop("created_by", None)
        return super().validate(attrs)


class FlowSerializer(OldNamesMixin, OldClientInputMixin, serializers.ModelSerializer):
    ALIASES = {"template_id": "template"}
    PARENT = "template"
    template = TemplateField(queryset=FlowTemplate.objects.all())
    subflows_count = serializers.SerializerMethodField()

    class Meta:
        model = Flow
        fields = [
            "id",
            "template",
            "name",
            "description",
            "is_default",
            "is_active",
            "order_index",
            "subflows_count",
            "updated_at",
        ]

    def get_subflows_count(self, flow) -> int:
        return _count(flow, "active_subflows_count", flow.subflows)

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


class SubflowSerializer(OldNamesMixin, OldClientInputMixin, ModelCleanMixin, serializers.ModelSerializer):
    ALIASES = {"flow_id": "flow", "parent_subflow_id": "parent"}
    PARENT = "flow"
    flow = FlowField(queryset=Flow.objects.all())
    parent = SubflowField(queryset=Subflow.objects.all(), required=False, allow_null=True)
    messages_count = serializers.SerializerMethodField()

    class Meta:
        model = Subflow
        fields = [
            "id",
            "flow",
            "parent",
            "name",
            "description",
            "trigger_keywords",
            "is_global",
            "hands_off",
            "order_index",
            "is_active",
            "messages_count",
        ]

    def get_messages_count(self, subflow) -> int:
        return _count(subflow, "active_messages_count", subflow.messages)


class FlowMessageSerializer(OldNamesMixin, OldClientInputMixin, ModelCleanMixin, serializers.ModelSerializer):
    ALIASES = {"subflow_id": "subflow", "message_text": "text"}
    PARENT = "subflow"
    subflow = SubflowField(queryset=Subflow.objects.all())
    on_error_subflow = SubflowField(queryset=Subflow.objects.all(), required=False, allow_null=True)

    class Meta:
        model = FlowMessage
        fields = ["id", "subflow", *MESSAGE_FIELDS, "on_error_subflow"]

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        if getattr(self, "used_old_names", False) and "wait_for_response" not in attrs and not self.partial:
            # The old API's default; the project's names keep the model's (no wait).
            attrs["wait_for_response"] = not attrs.get("wait_for_file", False)
        return attrs


class FlowTemplateViewSet(TenantModelViewSet):
    """Chatbots: `GET/POST /templates` (with flow counts), `GET /templates/<id>/flows`."""

    queryset = FlowTemplate.objects.all()
    serializer_class = FlowTemplateSerializer
    search_fields = ["name"]
    filterset_fields = ["is_active"]

    active_only = False

    def get_queryset(self):
        queryset = templates_with_counts(super().get_queryset())
        if self.active_only and self.action == "list" and not include_inactive(self.request):
            queryset = queryset.filter(is_active=True)
        return queryset

    def perform_create(self, serializer):
        template = serializer.save(organization=self.get_write_organization(), created_by=self.request.user)
        template.flow_count = 0  # what the list's annotation says of a new chatbot

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response.data = {**response.data, "status": "created"}  # the old API's answer
        return response

    @extend_schema(responses=FlowSerializer(many=True))
    @action(detail=True, methods=["get"])
    def flows(self, request, pk=None):
        flows = self.get_object().flows.annotate(
            active_subflows_count=Count("subflows", filter=Q(subflows__is_active=True))
        )
        if not include_inactive(request):
            flows = flows.filter(is_active=True)
        return Response(FlowSerializer(flows.order_by("order_index", "id"), many=True).data)


class OldFlowTemplateSerializer(FlowTemplateSerializer):
    """The same fields; its own schema component, as its list has its own shape."""


class ChatbotSerializer(FlowTemplateSerializer):
    """The same fields; its own schema component, as its list has its own shape."""


class OldFlowTemplateViewSet(FlowTemplateViewSet):
    """`/flow-templates`, the old chatbot's path: its list shows active templates only, as a bare array."""

    serializer_class = OldFlowTemplateSerializer
    pagination_class = BareListPagination
    active_only = True


class ChatbotViewSet(FlowTemplateViewSet):
    """`/chatbots`, the old automation screens' path: its list is `{count, next, previous, items}`."""

    serializer_class = ChatbotSerializer
    pagination_class = ItemsPagination


class FlowViewSet(TenantModelViewSet):
    queryset = Flow.objects.select_related("template").annotate(
        active_subflows_count=Count("subflows", filter=Q(subflows__is_active=True))
    )
    serializer_class = FlowSerializer
    organization_field = "template__organization"
    filterset_fields = ["template", "is_default", "is_active"]

    def perform_create(self, serializer):
        serializer.save()

    @extend_schema(responses=SubflowSerializer(many=True))
    @action(detail=True, methods=["get"])
    def subflows(self, request, pk=None):
        subflows = self.get_object().subflows.annotate(
            active_messages_count=Count("messages", filter=Q(messages__is_active=True))
        )
        if not include_inactive(request):
            subflows = subflows.filter(is_active=True)
        return Response(SubflowSerializer(subflows.order_by("order_index", "id"), many=True).data)


class SubflowViewSet(TenantModelViewSet):
    queryset = Subflow.objects.select_related("flow__template").annotate(
        active_messages_count=Count("messages", filter=Q(messages__is_active=True))
    )
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
