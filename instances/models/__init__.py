"""WhatsApp numbers (`numbers`), the sandbox's messages and the daily history (`sandbox`), Cloud API state (`cloud`)."""

from instances.models.cloud import CUSTOMER_SERVICE_WINDOW, ContactWindow, MessageTemplate
from instances.models.numbers import CLOUD_SECRETS, WhatsAppInstance, compute_health_score, generate_webhook_secret
from instances.models.sandbox import InstanceDay, SandboxMessage

__all__ = [
    "CLOUD_SECRETS",
    "CUSTOMER_SERVICE_WINDOW",
    "ContactWindow",
    "InstanceDay",
    "MessageTemplate",
    "SandboxMessage",
    "WhatsAppInstance",
    "compute_health_score",
    "generate_webhook_secret",
]
