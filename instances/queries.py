"""Reads about instances: the lookups webhooks authenticate with."""

import functools
import hmac
from typing import NamedTuple

from django.db import connection

from instances.models import WhatsAppInstance


class WebhookCaller(NamedTuple):
    """What a webhook request needs of its instance: who it is and how to check the caller."""

    id: int
    organization_id: int
    webhook_secret: str
    api_key: str


def webhook_caller_by_name(instance_name: str) -> WebhookCaller | None:
    """The instance Evolution names in a webhook's `instance` field: one indexed query, four columns.

    Plain SQL on the unique index: this runs on every webhook, and the ORM's query
    building would cost more than the query.
    """
    if not instance_name:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_caller_sql(), [instance_name])
        row = cursor.fetchone()
    return WebhookCaller(*row) if row else None


@functools.cache
def _caller_sql() -> str:
    meta, quote = WhatsAppInstance._meta, connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name.removesuffix("_id")).column) for name in WebhookCaller._fields)
    return f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote(meta.get_field('instance_name').column)} = %s"


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
