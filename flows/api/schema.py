"""What the bot-control, analytics and transfer endpoints (`flows.api.controls`) take and answer,
for the OpenAPI contract. The views build their answers themselves; these only describe them."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema_field, inline_serializer
from rest_framework import serializers

ORGANIZATION = OpenApiParameter(
    "organization",
    OpenApiTypes.INT,
    description="The organization to act on, when you belong to several.",
)


@extend_schema_field(OpenApiTypes.ANY)
class AnyValue(serializers.Field):
    """A setting's value: a number, a boolean, text or a list, by the setting's type."""


class SettingSerializer(serializers.Serializer):
    key = serializers.CharField()
    type = serializers.CharField()
    value = AnyValue(allow_null=True)
    default = AnyValue(allow_null=True)
    is_default = serializers.BooleanField()
    description = serializers.CharField()


class SettingValueSerializer(serializers.Serializer):
    value = AnyValue(help_text="The new value, of the setting's type (e.g. 3000 for DEBOUNCE_TIME).")
    type = serializers.CharField(required=False, help_text="A new key's type: string, boolean, number or json.")
    description = serializers.CharField(required=False, allow_blank=True)


# `GET /settings`: the old chatbot's object keyed by setting, {"BOT_ENABLED": {...}, ...}.
SETTINGS_BY_KEY = {
    (200, "application/json"): {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Setting"}}
}


class BotStatusSerializer(serializers.Serializer):
    bot_enabled = serializers.BooleanField()
    bot_status = serializers.CharField()
    test_contact_id = AnyValue(allow_null=True, help_text="The first test contact (an id or a phone), or null.")
    debounce_time = serializers.IntegerField()
    enabled = serializers.BooleanField()
    status = serializers.CharField()
    answering = serializers.BooleanField()
    test_mode = serializers.BooleanField()
    test_contact_ids = serializers.ListField(child=serializers.CharField())


class CountByFlowSerializer(serializers.Serializer):
    flow = serializers.IntegerField(allow_null=True)
    flow_name = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()


# "in" is a Python keyword, so this one is declared from a dict.
def _messages_per_day(**kwargs):
    return inline_serializer(
        "MessagesPerDay",
        {
            "date": serializers.DateField(),
            "messages_count": serializers.IntegerField(),
            "conversations_count": serializers.IntegerField(),
            "in": serializers.IntegerField(),
            "out": serializers.IntegerField(),
        },
        **kwargs,
    )


class CountByStatusSerializer(serializers.Serializer):
    status = serializers.CharField()
    count = serializers.IntegerField()


class ConversationAnalyticsSerializer(serializers.Serializer):
    by_status = CountByStatusSerializer(many=True)
    by_flow = CountByFlowSerializer(many=True)
    daily_messages = _messages_per_day(many=True)


class FileTypeCountSerializer(serializers.Serializer):
    file_type = serializers.CharField()
    count = serializers.IntegerField()
    avg_size_mb = serializers.FloatField(allow_null=True)
    average_size = serializers.IntegerField(allow_null=True)


class FileAnalyticsSerializer(serializers.Serializer):
    files_by_type = FileTypeCountSerializer(many=True)


class FlowDocumentSerializer(serializers.Serializer):
    """`manage.py export_flows`' document: {"format": ..., "template": {..., "flows": [...]}}."""

    format = serializers.CharField()
    template = serializers.DictField()


class LegacyFlowDocumentSerializer(serializers.Serializer):
    """The old chatbot's export: {"template": {...}, "flows": [{..., "subflows": [{..., "messages": [...]}]}]}."""

    template = serializers.DictField()
    flows = serializers.ListField(child=serializers.DictField())


EXPORT_FORMAT = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["legacy", "whatsflow"],
    description="`legacy` (the default, the old chatbot's document) or `whatsflow` (the project's).",
)
EXPORTED_DOCUMENT = PolymorphicProxySerializer(
    component_name="ExportedFlows",
    serializers=[LegacyFlowDocumentSerializer, FlowDocumentSerializer],
    resource_type_field_name=None,
)


class ImportedTemplateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    document = FlowDocumentSerializer()
