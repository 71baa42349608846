"""Models of the integrations app: connections, action runs, outbound webhooks."""

from integrations.models.actions import ACTION_KINDS, ActionRun
from integrations.models.connections import Integration, mask, validate_secrets
from integrations.models.webhooks import (
    EVENT_TYPES,
    DeliveryAttempt,
    OutboundEvent,
    WebhookDelivery,
    WebhookSubscription,
)

__all__ = [
    "ACTION_KINDS",
    "EVENT_TYPES",
    "ActionRun",
    "DeliveryAttempt",
    "Integration",
    "OutboundEvent",
    "WebhookDelivery",
    "WebhookSubscription",
    "mask",
    "validate_secrets",
]
