"""What the campaign and execution actions answer (`api.campaigns`, `api.executions`), for the OpenAPI contract."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from campaigns.models import Recipient


class StatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    read = serializers.IntegerField()
    replied = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    progress = serializers.FloatField(help_text="Percent of recipients done (neither pending nor sending)")
    delivery_rate = serializers.FloatField()
    read_rate = serializers.FloatField()
    failure_rate = serializers.FloatField()
    avg_seconds_to_deliver = serializers.FloatField(allow_null=True)
    avg_seconds_to_read = serializers.FloatField(allow_null=True)


PAUSED = inline_serializer("CampaignPaused", {"paused": serializers.IntegerField(help_text="Executions paused")})
RESUMED = inline_serializer("CampaignResumed", {"resumed": serializers.IntegerField(help_text="Executions resumed")})
SKIPPED = inline_serializer("CampaignCancelled", {"skipped": serializers.IntegerField(help_text="Recipients skipped")})

CONFLICT = OpenApiResponse(
    response={"$ref": "#/components/schemas/ValidationError"},
    description="Not possible in the execution's current status (named under `status`).",
)
REPORT_CSV = OpenApiResponse(
    response=OpenApiTypes.STR, description="One line per recipient (streamed), spreadsheet-safe text."
)
RECIPIENT_STATUS = OpenApiParameter(
    "status",
    OpenApiTypes.STR,
    many=True,
    enum=Recipient.Status.values,
    description="Only recipients in these statuses (repeat the parameter for several).",
)
