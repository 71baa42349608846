"""Reads about instances: the lookups webhooks authenticate with."""

import hmac

from instances.models import WhatsAppInstance


def instance_by_name(instance_name: str) -> WhatsAppInstance | None:
    """The instance Evolution names in a webhook's `instance` field."""
    if not instance_name:
        return None
    return WhatsAppInstance.objects.filter(instance_name=instance_name).select_related("organization").first()


def instance_by_webhook_secret(secret: str) -> WhatsAppInstance | None:
    """The instance whose webhook URL carries `secret`, compared in constant time.

    The indexed lookup finds the candidate; the final comparison is constant-time so
    the answer for a near-miss takes as long as for a match.
    """
    if not secret:
        return None
    instance = WhatsAppInstance.objects.filter(webhook_secret=secret).select_related("organization").first()
    if instance is None or not hmac.compare_digest(instance.webhook_secret.encode(), secret.encode()):
        return None
    return instance


def instance_by_api_key(*, instance_name: str, api_key: str) -> WhatsAppInstance | None:
    """The named instance if `api_key` is its key (Evolution puts the key in each webhook)."""
    instance = instance_by_name(instance_name)
    if instance is None or not instance.api_key or not api_key:
        return None
    if not hmac.compare_digest(instance.api_key.encode(), api_key.encode()):
        return None
    return instance


def instances_for_organizations(organization_ids):
    return WhatsAppInstance.objects.filter(organization_id__in=organization_ids)
