"""What the bot-control, analytics and transfer endpoints (`flows.api_controls`) take and answer,
for the OpenAPI contract. The views build their answers themselves; these only describe them."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field, inline_serializer
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


class BotStatusSerializer(serializers.Serializer):
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
        {"date": serializers.DateField(), "in": serializers.IntegerField(), "out": serializers.IntegerField()},
        **kwargs,
    )


class ConversationAnalyticsSerializer(serializers.Serializer):
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_flow = CountByFlowSerializer(many=True)
    messages_per_day = _messages_per_day(many=True)


class FileTypeCountSerializer(serializers.Serializer):
    file_type = serializers.CharField()
    count = serializers.IntegerField()
    average_size = serializers.IntegerField(allow_null=True)


class FileAnalyticsSerializer(serializers.Serializer):
    by_type = FileTypeCountSerializer(many=True)


class FlowDocumentSerializer(serializers.Serializer):
    """`manage.py export_flows`' document: {"format": ..., "template": {..., "flows": [...]}}."""

    format = serializers.CharField()
    template = serializers.DictField()


class ImportedTemplateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    document = FlowDocumentSerializer()
