"""Bot settings and controls, analytics, and flow export/import over the API.

These act on one organization: the one named by `?organization=<id>` (or in the
body), else the caller's only one.
"""

from datetime import timedelta

from django.db.models import Avg, Count
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Membership, Organization
from accounts.queries import organization_roles
from flows import api_schema as schema
from flows import controls
from flows.models import Conversation, FlowTemplate, MessageHistory, ReceivedFile
from flows.transfer import TransferError, export_template, import_template


def organization_for(request, *, write: bool = False) -> Organization:
    roles = organization_roles(request)
    allowed = [org for org, role in roles.items() if not write or role in Membership.WRITE_ROLES]
    requested = request.query_params.get("organization")
    if requested is None and hasattr(request.data, "get"):
        requested = request.data.get("organization")
    if requested in (None, ""):
        if len(allowed) != 1:
            raise ValidationError({"organization": ["Required: you belong to several organizations; name one by id."]})
        return Organization.objects.get(id=allowed[0])
    try:
        requested = int(requested)
    except (TypeError, ValueError):
        raise ValidationError({"organization": ["Must be an organization id."]}) from None
    if requested not in allowed:
        raise ValidationError({"organization": [f"You cannot use organization {requested}."]})
    return Organization.objects.get(id=requested)


class SettingsView(APIView):
    """`GET /settings`: every bot setting with its type, value and default."""

    @extend_schema(parameters=[schema.ORGANIZATION], responses=schema.SettingSerializer(many=True))
    def get(self, request):
        organization = organization_for(request)
        return Response(controls.describe_settings(organization_id=organization.id))


class SettingDetailView(APIView):
    """`PUT /settings/<key>` with `{"value": ...}`."""

    @extend_schema(
        parameters=[schema.ORGANIZATION], request=schema.SettingValueSerializer, responses=schema.SettingSerializer
    )
    def put(self, request, key):
        organization = organization_for(request, write=True)
        if key not in controls.SETTINGS:
            raise ValidationError({"key": [f"Unknown setting {key}."]})
        if not hasattr(request.data, "get") or "value" not in request.data:
            raise ValidationError({"value": ["This field is required."]})
        try:
            controls.set_setting(organization_id=organization.id, key=key, value=request.data["value"])
        except controls.SettingError as exc:
            raise ValidationError({"value": [str(exc)]}) from None
        described = controls.describe_settings(organization_id=organization.id)
        return Response(next(item for item in described if item["key"] == key))


def _bot_status(organization_id: int) -> dict:
    bot = controls.get_bot_settings(organization_id=organization_id)
    return {
        "enabled": bot.BOT_ENABLED,
        "status": bot.BOT_STATUS,
        "answering": bot.answers,
        "test_mode": bot.TEST_MODE,
        "test_contact_ids": list(bot.TEST_CONTACT_IDS),
    }


class BotStatusView(APIView):
    @extend_schema(parameters=[schema.ORGANIZATION], responses=schema.BotStatusSerializer)
    def get(self, request):
        return Response(_bot_status(organization_for(request).id))


class BotEnableView(APIView):
    enabled = True

    @extend_schema(parameters=[schema.ORGANIZATION], request=None, responses=schema.BotStatusSerializer)
    def post(self, request):
        organization = organization_for(request, write=True)
        controls.set_bot_enabled(organization_id=organization.id, enabled=self.enabled)
        return Response(_bot_status(organization.id))


class BotDisableView(BotEnableView):
    enabled = False


class TestModeInput(serializers.Serializer):
    enabled = serializers.BooleanField()
    contact_ids = serializers.ListField(child=serializers.CharField(max_length=32), required=False)


class BotTestModeView(APIView):
    """`POST /bot/test-mode` with `{"enabled": true, "contact_ids": [12, "+5511…"]}`."""

    @extend_schema(parameters=[schema.ORGANIZATION], request=TestModeInput, responses=schema.BotStatusSerializer)
    def post(self, request):
        organization = organization_for(request, write=True)
        data = TestModeInput(data=request.data)
        data.is_valid(raise_exception=True)
        controls.set_test_mode(
            organization_id=organization.id,
            enabled=data.validated_data["enabled"],
            contact_ids=data.validated_data.get("contact_ids"),
        )
        return Response(_bot_status(organization.id))


class ConversationAnalyticsView(APIView):
    """By status, by flow, and messages per day (in/out) over the last 30 days."""

    @extend_schema(parameters=[schema.ORGANIZATION], responses=schema.ConversationAnalyticsSerializer)
    def get(self, request):
        organization = organization_for(request)
        conversations = Conversation.objects.filter(organization=organization)
        since = timezone.now() - timedelta(days=30)
        per_day = (
            MessageHistory.objects.filter(organization=organization, created_at__gte=since)
            .annotate(day=TruncDate("created_at"))
            .values("day", "direction")
            .annotate(count=Count("id"))
            .order_by("day", "direction")
        )
        days: dict = {}
        for row in per_day:
            entry = days.setdefault(row["day"].isoformat(), {"date": row["day"].isoformat(), "in": 0, "out": 0})
            entry[row["direction"]] = row["count"]
        return Response(
            {
                "by_status": {
                    row["status"]: row["count"]
                    for row in conversations.values("status").annotate(count=Count("id")).order_by("status")
                },
                "by_flow": [
                    {"flow": row["flow"], "flow_name": row["flow__name"], "count": row["count"]}
                    for row in conversations.values("flow", "flow__name").annotate(count=Count("id")).order_by("flow")
                ],
                "messages_per_day": list(days.values()),
            }
        )


class FileAnalyticsView(APIView):
    @extend_schema(parameters=[schema.ORGANIZATION], responses=schema.FileAnalyticsSerializer)
    def get(self, request):
        organization = organization_for(request)
        rows = (
            ReceivedFile.objects.filter(organization=organization)
            .values("file_type")
            .annotate(count=Count("id"), average_size=Avg("size"))
            .order_by("file_type")
        )
        return Response(
            {
                "by_type": [
                    {
                        "file_type": row["file_type"],
                        "count": row["count"],
                        "average_size": round(row["average_size"]) if row["average_size"] is not None else None,
                    }
                    for row in rows
                ]
            }
        )


class ExportFlowsView(APIView):
    @extend_schema(responses=schema.FlowDocumentSerializer)
    def get(self, request, template_id):
        template = get_object_or_404(FlowTemplate, id=template_id, organization__in=list(organization_roles(request)))
        return Response(export_template(template))


class ImportFlowsView(APIView):
    """`POST /import/flows` with an exported document: a new template, all or nothing."""

    @extend_schema(
        parameters=[schema.ORGANIZATION],
        request=schema.FlowDocumentSerializer,
        responses={201: schema.ImportedTemplateSerializer},
    )
    def post(self, request):
        organization = organization_for(request, write=True)
        document = request.data
        if hasattr(document, "dict") and not isinstance(document, dict):
            document = document.dict()
        document = {key: value for key, value in document.items() if key != "organization"}
        try:
            template = import_template(organization=organization, document=document, created_by=request.user)
        except TransferError as exc:
            raise ValidationError({exc.path: [str(exc).split(": ", 1)[1]]}) from None
        return Response({"id": template.id, "name": template.name, "document": export_template(template)}, status=201)
