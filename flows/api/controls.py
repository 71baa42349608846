"""Bot settings and controls, analytics, and flow export/import over the API.

These act on one organization: the one named by `?organization=<id>` (or in the
body), else the caller's only one.
"""

from datetime import timedelta

from django.db.models import Avg, Count, Q
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
from core.api import request_object
from flows import controls
from flows.api import schema
from flows.models import Conversation, FlowTemplate, MessageHistory, ReceivedFile
from flows.models.settings import SettingError
from flows.transfer import TransferError, export_template, import_template
from flows.transfer_legacy import export_legacy, import_legacy, is_legacy


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
    """`GET /settings`: an object keyed by setting, `{"BOT_ENABLED": {"value", "type", "description", …}}`."""

    @extend_schema(parameters=[schema.ORGANIZATION], responses=schema.SETTINGS_BY_KEY)
    def get(self, request):
        organization = organization_for(request)
        return Response(controls.describe_settings(organization_id=organization.id))


class SettingInput(serializers.Serializer):
    value = serializers.JSONField()
    type = serializers.CharField(required=False, max_length=16)
    description = serializers.CharField(required=False, allow_blank=True, max_length=300)


class SettingDetailView(APIView):
    """`PUT /settings/<key>` with `{"value", "type", "description"}`; a new key is the organization's own."""

    @extend_schema(
        parameters=[schema.ORGANIZATION], request=schema.SettingValueSerializer, responses=schema.SettingSerializer
    )
    def put(self, request, key):
        organization = organization_for(request, write=True)
        data = SettingInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            controls.set_setting(
                organization_id=organization.id,
                key=key,
                value=data.validated_data["value"],
                kind=data.validated_data.get("type"),
                description=data.validated_data.get("description"),
            )
        except controls.SettingFieldError as exc:
            raise ValidationError({exc.field: [str(exc)]}) from None
        except SettingError as exc:
            raise ValidationError({"value": [str(exc)]}) from None
        return Response(controls.describe_settings(organization_id=organization.id)[key])


def _bot_status(organization_id: int) -> dict:
    bot = controls.get_bot_settings(organization_id=organization_id)
    return {
        # The old chatbot's names ...
        "bot_enabled": bot.BOT_ENABLED,
        "bot_status": bot.BOT_STATUS,
        "test_mode": bot.TEST_MODE,
        "test_contact_id": bot.test_contact_id,
        "debounce_time": bot.DEBOUNCE_TIME,
        # ... and ours.
        "enabled": bot.BOT_ENABLED,
        "status": bot.BOT_STATUS,
        "answering": bot.answers,
        "test_contact_ids": list(bot.TEST_CONTACT_IDS),
    }


class BotStatusView(APIView):
    @extend_schema(parameters=[schema.ORGANIZATION], responses=schema.BotStatusSerializer)
    def get(self, request):
        return Response(_bot_status(organization_for(request).id))


class BotEnableView(APIView):
    """`POST /bot/enable` → `{"status": "enabled", …}` (the old answer; `bot_status` keeps the bot's status)."""

    enabled = True

    @extend_schema(parameters=[schema.ORGANIZATION], request=None, responses=schema.BotStatusSerializer)
    def post(self, request):
        organization = organization_for(request, write=True)
        controls.set_bot_enabled(organization_id=organization.id, enabled=self.enabled)
        return Response({**_bot_status(organization.id), "status": "enabled" if self.enabled else "disabled"})


class BotDisableView(BotEnableView):
    enabled = False


class TestModeInput(serializers.Serializer):
    enabled = serializers.BooleanField()
    contact_ids = serializers.ListField(child=serializers.CharField(max_length=32), required=False)


class BotTestModeView(APIView):
    """`POST /bot/test-mode` with `{"enabled": true, "contact_ids": [12, "+5511…", "24914"]}`."""

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


class PeriodInput(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=3660, default=30)


def _since(request):
    period = PeriodInput(data=request.query_params)
    period.is_valid(raise_exception=True)
    return timezone.now() - timedelta(days=period.validated_data["days"])


class ConversationAnalyticsView(APIView):
    """The last 30 days (`?days=`): conversations by status and by flow, messages and conversations per day."""

    @extend_schema(parameters=[schema.ORGANIZATION], responses=schema.ConversationAnalyticsSerializer)
    def get(self, request):
        organization = organization_for(request)
        since = _since(request)
        conversations = Conversation.objects.filter(organization=organization, started_at__gte=since)
        per_day = (
            MessageHistory.objects.filter(organization=organization, created_at__gte=since)
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(
                messages_count=Count("id"),
                conversations_count=Count("conversation", distinct=True),
                inbound=Count("id", filter=Q(direction=MessageHistory.Direction.INBOUND)),
                outbound=Count("id", filter=Q(direction=MessageHistory.Direction.OUTBOUND)),
            )
            .order_by("day")
        )
        return Response(
            {
                "by_status": [
                    {"status": row["status"], "count": row["count"]}
                    for row in conversations.values("status").annotate(count=Count("id")).order_by("status")
                ],
                "by_flow": [
                    {"flow": row["flow"], "flow_name": row["flow__name"], "count": row["count"]}
                    for row in conversations.values("flow", "flow__name").annotate(count=Count("id")).order_by("flow")
                ],
                "daily_messages": [
                    {
                        "date": row["day"].isoformat(),
                        "messages_count": row["messages_count"],
                        "conversations_count": row["conversations_count"],
                        "in": row["inbound"],
                        "out": row["outbound"],
                    }
                    for row in per_day
                ],
            }
        )


class FileAnalyticsView(APIView):
    """Files received in the last 30 days (`?days=`) by type, with their average size."""

    @extend_schema(parameters=[schema.ORGANIZATION], responses=schema.FileAnalyticsSerializer)
    def get(self, request):
        organization = organization_for(request)
        rows = (
            ReceivedFile.objects.filter(organization=organization, created_at__gte=_since(request))
            .values("file_type")
            .annotate(count=Count("id"), average_size=Avg("size"))
            .order_by("file_type")
        )
        return Response(
            {
                "files_by_type": [
                    {
                        "file_type": row["file_type"],
                        "count": row["count"],
                        "avg_size_mb": round(row["average_size"] / (1024 * 1024), 3)
                        if row["average_size"] is not None
                        else None,
                        "average_size": round(row["average_size"]) if row["average_size"] is not None else None,
                    }
                    for row in rows
                ]
            }
        )


class ExportFlowsView(APIView):
    """`GET /export/flows/<id>`: the old chatbot's document (its path), or the project's with `?format=whatsflow`."""

    def perform_content_negotiation(self, request, force=False):
        # `?format=` is DRF's renderer override; here it names the document's shape instead.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(parameters=[schema.EXPORT_FORMAT], responses=schema.EXPORTED_DOCUMENT)
    def get(self, request, template_id):
        template = get_object_or_404(FlowTemplate, id=template_id, organization__in=list(organization_roles(request)))
        shape = request.query_params.get("format", "legacy")
        if shape not in ("", "json", "api", "whatsflow", "legacy"):
            raise ValidationError({"format": ["Must be whatsflow or legacy."]})
        return Response(export_template(template) if shape == "whatsflow" else export_legacy(template))


class ImportFlowsView(APIView):
    """`POST /import/flows` with an exported document (ours or the old one): a new template, all or nothing."""

    @extend_schema(
        parameters=[schema.ORGANIZATION],
        request=schema.FlowDocumentSerializer,
        responses={201: schema.ImportedTemplateSerializer},
    )
    def post(self, request):
        organization = organization_for(request, write=True)
        document = {key: value for key, value in request_object(request).items() if key != "organization"}
        importer = import_legacy if is_legacy(document) else import_template
        try:
            template = importer(organization=organization, document=document, created_by=request.user)
        except TransferError as exc:
            raise ValidationError({exc.path: [str(exc).split(": ", 1)[1]]}) from None
        return Response(
            {"id": template.id, "name": template.name, "status": "imported", "document": export_template(template)},
            status=201,
        )
