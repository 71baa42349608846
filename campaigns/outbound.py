"""What campaigns tell other systems: recipient and execution events, into the integrations outbox.

Written in the transaction of the change (the outbox promise: no event without its change,
no change without its event); the drainer in `integrations` delivers them later, so no
HTTP call happens where statuses move (the Evolution webhook's path included).
"""

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from campaigns.models import Execution, Recipient
from integrations.models import OutboundEvent
from integrations.services import webhooks

RECIPIENT_EVENTS = ("sent", "delivered", "read", "replied", "failed", "opted_out")


def recipient_event_wanted(to: str, organization_id: int | None = None) -> bool:
    """Whether a move to `to` writes events: for this organization's subscriptions only, when it is known."""
    if to not in RECIPIENT_EVENTS:
        return False
    if organization_id is not None:
        return webhooks.organization_subscribes(organization_id, f"recipient.{to}")
    return bool(webhooks.subscribed_organization_ids(f"recipient.{to}"))


def move_with_events(*, queryset, values: dict, to: str, organization_id: int | None = None, late=None, at=None) -> int:
    """One statement: `UPDATE … RETURNING` the recipients of `queryset`, and an event for each that moved.

    Only the rows the update returns get an event (those that just moved to `to`), for the
    subscribed organizations (this one alone, when it is named); the recipients of `late`
    (already past `to`) get their empty timestamp of `to` set to `at` in the same statement.
    Returns how many moved.
    """
    event_type = f"recipient.{to}"
    if organization_id is not None:
        organization_ids = [organization_id]
    else:
        organization_ids = sorted(webhooks.subscribed_organization_ids(event_type))
    stamp = Recipient.TIMESTAMP_OF[to]
    try:
        update_sql, update_params = _update_sql(queryset, values)
    except EmptyResultSet:  # a queryset that can match nothing (e.g. `id__in=[]`)
        return 0
    try:
        fill_sql, fill_params = ("SELECT 1", []) if late is None else _update_sql(late, {stamp: at})
    except EmptyResultSet:
        fill_sql, fill_params = "SELECT 1", []
    recipients, executions = Recipient._meta.db_table, Execution._meta.db_table
    # The two updates touch different rows (statuses before `to`, statuses after it).
    statement = f"""
        WITH moved AS (
            {update_sql}
            RETURNING {recipients}.id, execution_id, contact_id, phone, provider_message_id, error, {stamp} AS at
        ), filled AS ({fill_sql}), written AS (
            INSERT INTO {OutboundEvent._meta.db_table} (organization_id, type, key, payload, occurred_at, created_at)
            SELECT e.organization_id, %s::text, %s::text || m.id::text,
                   jsonb_build_object('recipient_id', m.id, 'execution_id', m.execution_id,
                       'flow_automation_id', e.campaign_id, 'contact_id', m.contact_id, 'phone', m.phone,
                       'status', %s::text, 'provider_message_id', m.provider_message_id, 'error', m.error,
                       'occurred_at', m.at),
                   m.at, %s::timestamptz
            FROM moved m JOIN {executions} e ON e.id = m.execution_id
            WHERE e.organization_id = ANY(%s)
            ON CONFLICT DO NOTHING
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM written)"""
    params = [*update_params, *fill_params, event_type, f"{event_type}:", to, timezone.now(), organization_ids]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        moved, _written = cursor.fetchone()
    return moved


def _update_sql(queryset, values: dict) -> tuple[str, list]:
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    sql, params = query.get_compiler(queryset.db).as_sql()
    return sql, list(params)


def enqueue_execution_completed(*, execution, counts: dict) -> bool:
    completed_at = execution.completed_at
    return webhooks.enqueue_event(
        organization_id=execution.organization_id,
        type="execution.completed",
        # An execution re-opened by a re-queue completes again: one event per completion.
        key=f"execution.completed:{execution.id}:{completed_at.timestamp():.6f}",
        payload={
            "execution_id": execution.id,
            "flow_automation_id": execution.campaign_id,
            "type": execution.type,
            "trigger_event": execution.trigger_event,
            "stats": counts,
            "completed_at": completed_at.isoformat(),
        },
        occurred_at=completed_at,
    )
