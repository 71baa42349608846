from datetime import timedelta

from django.utils import timezone

from integrations.models import ActionRun, Integration, OutboundEvent, WebhookDelivery, WebhookSubscription


def make_integration(organization) -> Integration:
    # No secrets: rows made for tenancy tests need no encryption key.
    return Integration.objects.create(
        organization=organization,
        kind="http",
        name=f"crm-{Integration.objects.count()}",
        settings={"base_url": "https://crm.example.com"},
    )


def make_subscription(organization) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        organization=organization, url="https://crm.example.com/hooks", events=["recipient.sent"]
    )


def make_delivery(organization) -> WebhookDelivery:
    event = OutboundEvent.objects.create(
        organization=organization,
        type="recipient.sent",
        key=f"recipient.sent:{OutboundEvent.objects.count()}",
        occurred_at=timezone.now(),
    )
    return WebhookDelivery.objects.create(
        subscription=make_subscription(organization),
        event=event,
        next_attempt_at=timezone.now(),
        give_up_at=timezone.now() + timedelta(days=1),
    )


def make_run(organization) -> ActionRun:
    return ActionRun.objects.create(
        organization=organization,
        action="http_request",
        reference="conversation:0",
        key=f"run-{ActionRun.objects.count()}",
        next_attempt_at=timezone.now(),
    )


TENANT_FACTORIES = {
    Integration: make_integration,
    WebhookSubscription: make_subscription,
    WebhookDelivery: make_delivery,
    ActionRun: make_run,
}
