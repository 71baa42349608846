"""Reads about instances: the lookups webhooks authenticate with."""

import functools
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


def instances_for_organizations(organization_ids):
    return WhatsAppInstance.objects.filter(organization_id__in=organization_ids)
