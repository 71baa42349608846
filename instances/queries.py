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


def webhook_caller_by_name(
    instance_name: str, *, credential: str = "", by_api_key: bool = False
) -> WebhookCaller | None:
    """The instance Evolution names in a webhook's `instance` field: one indexed query, four columns.

    A name is unique per provider server, not across them: of several instances with the
    name, the one whose credential (webhook secret, or API key with `by_api_key`) is the one
    given, else the oldest. Plain SQL on the index: this runs on every webhook, and the
    ORM's query building would cost more than the query.
    """
    if not instance_name:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_caller_sql(), [instance_name])
        callers = [WebhookCaller(*row) for row in cursor.fetchall()]
    for caller in callers:
        stored = caller.api_key if by_api_key else caller.webhook_secret
        if credential and stored and hmac.compare_digest(credential.encode(), stored.encode()):
            return caller
    return callers[0] if callers else None


@functools.cache
def _caller_sql() -> str:
    meta, quote = WhatsAppInstance._meta, connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name.removesuffix("_id")).column) for name in WebhookCaller._fields)
    name, pk = quote(meta.get_field("instance_name").column), quote(meta.pk.column)
    return f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {name} = %s ORDER BY {pk}"


def instances_for_organizations(organization_ids):
    return WhatsAppInstance.objects.filter(organization_id__in=organization_ids)
