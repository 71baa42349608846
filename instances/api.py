from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Membership
from accounts.queries import organization_roles
from accounts.tenancy import TenantModelViewSet
from contacts.phones import InvalidPhone, normalize_phone
from instances import connection, services
from instances.models import CLOUD_SECRETS, WhatsAppInstance
from instances.providers.base import ProviderError, ProviderOutcomeUnknown, ProviderRejected

SECRET_FIELDS = ("api_key", "integration_key")
# Write-only fields of a Cloud API number's secrets (stored encrypted, `WhatsAppInstance.cloud_secrets`).
CLOUD_SECRET_FIELDS = {f"cloud_{name}": name for name in CLOUD_SECRETS}
# What a new Cloud API number cannot work without: sends need the token, webhooks the app secret.
CLOUD_REQUIRED = ("cloud_access_token", "cloud_app_secret")


def mask(secret: str) -> str:
    """What the API and the admin show of a key: its last 4 characters."""
    return f"…{secret[-4:]}" if secret else ""


class WhatsAppInstanceSerializer(serializers.ModelSerializer):
    api_key = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=255)
    integration_key = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=255)
    api_key_hint = serializers.SerializerMethodField()
    integration_key_hint = serializers.SerializerMethodField()
    cloud_access_token = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=1000, help_text="Cloud API: the permanent token"
    )
    cloud_app_secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=255, help_text="Cloud API: the Meta app's secret"
    )
    cloud_verify_token = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=255, help_text="Cloud API: the verify token"
    )
    cloud_secrets_stored = serializers.SerializerMethodField()
    webhook_url = serializers.SerializerMethodField()
    daily_cap_today = serializers.SerializerMethodField()
    daily_cap_left = serializers.SerializerMethodField()

    class Meta:
        model = WhatsAppInstance
        fields = [
            "id",
            "organization",
            "name",
            "provider",
            "phone_number",
            "base_url",
            "instance_name",
            "api_version",
            "api_key",
            "api_key_hint",
            "integration_key",
            "integration_key_hint",
            "cloud_phone_number_id",
            "cloud_business_account_id",
            "cloud_access_token",
            "cloud_app_secret",
            "cloud_verify_token",
            "cloud_secrets_stored",
            "webhook_url",
            "status",
            "connection_state",
            "needs_qr_login",
            "connection_reason",
            "health_score",
            "sandbox_config",
            "counters_date",
            "sent_today",
            "delivered_today",
            "read_today",
            "failed_today",
            "replies_today",
            "disconnects_today",
            "last_connected_at",
            "last_disconnected_at",
            "connection_checked_at",
            "configure_webhook_on_save",
            "supports_polls",
            "sending_since",
            "warmed_up",
            "daily_cap",
            "daily_cap_today",
            "daily_cap_left",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["organization", *WhatsAppInstance.REPORTED_FIELDS]

    def get_api_key_hint(self, obj) -> str:
        return mask(obj.api_key)

    def get_integration_key_hint(self, obj) -> str:
        return mask(obj.integration_key)

    def get_cloud_secrets_stored(self, obj) -> list[str]:
        """Which Cloud API secrets are stored (their names, never their values)."""
        if obj.provider != WhatsAppInstance.Provider.CLOUD:
            return []
        return [name for name in obj.cloud_secret_hint().split(", ") if name]

    def get_webhook_url(self, obj) -> str | None:
        """The URL embeds the instance's webhook secret: only its organization's admins see it."""
        request = self.context.get("request")
        if request is None or organization_roles(request).get(obj.organization_id) != Membership.Role.ADMIN:
            return None
        return services.webhook_url(obj)

    def _cap(self, obj) -> dict:
        cache = self.context.setdefault("_caps", {})
        if obj.id not in cache:
            cache[obj.id] = connection.cap_today(obj) or {}
        return cache[obj.id]

    def get_daily_cap_today(self, obj) -> int | None:
        """Campaign sends allowed today through this number (None: no cap)."""
        return self._cap(obj).get("cap")

    def get_daily_cap_left(self, obj) -> int | None:
        return self._cap(obj).get("left")

    def validate(self, attrs):
        secrets = {CLOUD_SECRET_FIELDS[f]: attrs.pop(f) for f in list(attrs) if f in CLOUD_SECRET_FIELDS}
        # The model's clean() holds the per-provider rules; run it on the would-be row.
        candidate = WhatsAppInstance(**{**self._current_values(), **attrs})
        if candidate.provider == WhatsAppInstance.Provider.CLOUD:
            stored = self.instance.cloud_secrets() if self.instance and self.instance.cloud_secrets_encrypted else {}
            missing = {
                field: ["Required for Cloud API instances."]
                for field in CLOUD_REQUIRED
                if not (secrets.get(CLOUD_SECRET_FIELDS[field]) or stored.get(CLOUD_SECRET_FIELDS[field]))
            }
            if missing:
                raise serializers.ValidationError(missing)
        if self.instance is not None:
            candidate.pk, candidate._state.adding = self.instance.pk, False  # not unique against itself
        candidate.clean()
        attrs["instance_name"] = candidate.instance_name
        attrs["base_url"] = candidate.base_url  # normalized: the uniqueness compares it
        try:
            candidate.validate_constraints()
        except DjangoValidationError as error:
            # The uniqueness of a name per server or of a phone number id; neither says who has it.
            field = (
                "cloud_phone_number_id" if candidate.provider == WhatsAppInstance.Provider.CLOUD else "instance_name"
            )
            raise serializers.ValidationError({field: error.messages}) from None
        attrs["_cloud_secrets"] = secrets
        return attrs

    def create(self, validated_data):
        secrets = validated_data.pop("_cloud_secrets", {})
        instance = WhatsAppInstance(**validated_data)
        if secrets:
            instance.set_cloud_secrets(**secrets)
        instance.save()
        return instance

    def update(self, instance, validated_data):
        secrets = validated_data.pop("_cloud_secrets", {})
        if secrets:
            instance.set_cloud_secrets(**secrets)
        return super().update(instance, validated_data)

    def _current_values(self) -> dict:
        if self.instance is None:
            return {}
        fields = WhatsAppInstance._meta.concrete_fields
        return {f.name: getattr(self.instance, f.name) for f in fields if f.name != "id"}


class TestMessageSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32, help_text="e.g. +5511999999999")
    text = serializers.CharField(max_length=4096)

    def validate_phone(self, value: str) -> str:
        try:
            return normalize_phone(value)
        except InvalidPhone as error:
            raise serializers.ValidationError(str(error)) from None


def provider_error_response(exc: ProviderError) -> Response:
    """A provider's refusal is the caller's 400; a provider that failed or went silent is a 502/504."""
    if isinstance(exc, ProviderRejected):
        code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, ProviderOutcomeUnknown):
        code = status.HTTP_504_GATEWAY_TIMEOUT
    else:
        code = status.HTTP_502_BAD_GATEWAY
    return Response({"detail": str(exc), "code": exc.code, "provider_status": exc.status_code}, status=code)


PROVIDER_ERROR = OpenApiResponse(
    response={"$ref": "#/components/schemas/ProviderError"},
    description="The provider failed (502) or did not answer within the read timeout (504).",
)
PROVIDER_REFUSED = OpenApiResponse(
    response={
        "anyOf": [{"$ref": "#/components/schemas/ValidationError"}, {"$ref": "#/components/schemas/ProviderError"}]
    },
    description="Bad input (fields named), or the provider refused the message (ProviderError).",
)


class WhatsAppInstanceViewSet(TenantModelViewSet):
    queryset = WhatsAppInstance.objects.all()
    serializer_class = WhatsAppInstanceSerializer
    filterset_fields = ["provider", "connection_state", "needs_qr_login", "status", "api_version"]
    search_fields = ["name", "instance_name", "phone_number"]
    ordering_fields = ["name", "health_score", "sent_today", "created_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("organization")

    def perform_create(self, serializer):
        super().perform_create(serializer)
        connection.queue_refresh(instance=serializer.instance)

    def perform_update(self, serializer):
        super().perform_update(serializer)
        connection.queue_refresh(instance=serializer.instance)

    @extend_schema(
        request=TestMessageSerializer,
        responses={
            200: inline_serializer(
                "TestMessageSent",
                {"provider_message_id": serializers.CharField(), "accepted_at": serializers.DateTimeField()},
            ),
            (400, "application/json"): PROVIDER_REFUSED,
            502: PROVIDER_ERROR,
            504: PROVIDER_ERROR,
        },
    )
    @action(detail=True, methods=["post"], url_path="test-message", serializer_class=TestMessageSerializer)
    def test_message(self, request, pk=None):
        instance = self.get_object()
        serializer = TestMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = services.send_text(instance=instance, **serializer.validated_data)
        except ProviderError as exc:
            return provider_error_response(exc)
        return Response({"provider_message_id": result.provider_message_id, "accepted_at": result.accepted_at})

    @extend_schema(
        responses={
            200: inline_serializer(
                "ConnectionState",
                {
                    "connection_state": serializers.ChoiceField(choices=WhatsAppInstance.ConnectionState.choices),
                    "health_score": serializers.IntegerField(),
                },
            ),
            400: PROVIDER_REFUSED,
            502: PROVIDER_ERROR,
            504: PROVIDER_ERROR,
        }
    )
    @action(detail=True, methods=["get"])
    def connection(self, request, pk=None):
        instance = self.get_object()
        try:
            state = services.check_connection(instance=instance)
        except ProviderError as exc:
            return provider_error_response(exc)
        return Response({"connection_state": state, "health_score": instance.health_score})
