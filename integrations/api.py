"""The integrations API: `/api/v1/integrations/`, `/api/v1/webhook-subscriptions/`,
`/api/v1/webhook-deliveries/`, `/api/v1/action-runs/`. Secrets are write-only; answers show hints."""

from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.tenancy import TenantModelViewSet, TenantReadOnlyViewSet
from integrations.models import (
    EVENT_TYPES,
    ActionRun,
    DeliveryAttempt,
    Integration,
    WebhookDelivery,
    WebhookSubscription,
)
from integrations.services import connections, webhooks


class IntegrationSerializer(serializers.ModelSerializer):
    secrets = serializers.JSONField(
        write_only=True, required=False, help_text='e.g. {"email": "bot@loja.com", "password": "…"}'
    )

    class Meta:
        model = Integration
        fields = [
            "id",
            "organization",
            "kind",
            "name",
            "settings",
            "secrets",
            "secret_hint",
            "is_active",
            "last_tested_at",
            "last_test_ok",
            "last_test_message",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["organization", "secret_hint", "last_tested_at", "last_test_ok", "last_test_message"]

    def validate_kind(self, value):
        if self.instance is not None and value != self.instance.kind:
            raise serializers.ValidationError("The kind of an integration cannot change.")
        return value


class IntegrationViewSet(TenantModelViewSet):
    queryset = Integration.objects.all()
    serializer_class = IntegrationSerializer
    filterset_fields = ["kind", "is_active"]
    search_fields = ["name"]

    def perform_create(self, serializer):
        serializer.instance = connections.create_integration(
            organization=self.get_write_organization(), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = connections.update_integration(
            integration=serializer.instance, **serializer.validated_data
        )

    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        ok, message = connections.check_integration(integration=self.get_object())
        return Response({"ok": ok, "message": message}, status=status.HTTP_200_OK)


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES), allow_empty=False)

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "organization",
            "url",
            "description",
            "events",
            "secret_hint",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "created_at",
        ]
        read_only_fields = ["organization", "secret_hint", "disabled_at", "disabled_reason", "created_at"]


class WebhookSubscriptionViewSet(TenantModelViewSet):
    queryset = WebhookSubscription.objects.all()
    serializer_class = WebhookSubscriptionSerializer
    filterset_fields = ["is_active"]

    def perform_create(self, serializer):
        serializer.instance, self._secret = webhooks.create_subscription(
            organization=self.get_write_organization(), **serializer.validated_data
        )

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        # The signing secret is shown once, in the answer that creates it.
        response.data["secret"] = self._secret
        return response

    def perform_update(self, serializer):
        serializer.instance = webhooks.update_subscription(
            subscription=serializer.instance, **serializer.validated_data
        )

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        secret = webhooks.rotate_secret(subscription=self.get_object())
        return Response({"secret": secret})


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["attempted_at", "status_code", "succeeded", "latency_ms", "error", "response_excerpt"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.public_id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "give_up_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "created_at",
            "attempt_log",
        ]
        read_only_fields = fields


class WebhookDeliveryViewSet(TenantReadOnlyViewSet):
    queryset = WebhookDelivery.objects.select_related("event", "subscription").prefetch_related("attempt_log")
    serializer_class = WebhookDeliverySerializer
    organization_field = "subscription__organization"
    filterset_fields = ["status", "subscription"]

    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        delivery = self.get_object()
        if not request.user.is_superuser and not _can_write(request, delivery.subscription.organization_id):
            return Response({"detail": "Your role does not allow replays."}, status=status.HTTP_403_FORBIDDEN)
        webhooks.replay_deliveries(delivery_ids=[delivery.id])
        delivery.refresh_from_db()
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class ActionRunSerializer(serializers.ModelSerializer):
    integration_name = serializers.CharField(source="integration.name", read_only=True, default="")

    class Meta:
        model = ActionRun
        fields = [
            "id",
            "action",
            "integration",
            "integration_name",
            "reference",
            "status",
            "attempts",
            "latency_ms",
            "error",
            "result",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class ActionRunViewSet(TenantReadOnlyViewSet):
    queryset = ActionRun.objects.select_related("integration")
    serializer_class = ActionRunSerializer
    filterset_fields = ["status", "action", "reference", "integration"]


def _can_write(request, organization_id: int) -> bool:
    from accounts.models import Membership
    from accounts.queries import organization_roles

    return organization_roles(request).get(organization_id) in Membership.WRITE_ROLES
