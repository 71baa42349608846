"""What campaigns tell other systems: recipient and execution events, into the integrations outbox.

Written in the transaction of the change (the outbox promise: no event without its change,
no change without its event); the drainer in `integrations` delivers them later, so no
HTTP call happens where statuses move (the Evolution webhook's path included).
"""

from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, JSONObject

from campaigns.models import Recipient
from integrations.services import webhooks

RECIPIENT_EVENTS = ("sent", "delivered", "read", "replied", "failed", "opted_out")


def recipient_event_wanted(to: str, organization_id: int | None = None) -> bool:
    """Whether a move to `to` writes events: for this organization's subscriptions only, when it is known."""
    if to not in RECIPIENT_EVENTS:
        return False
    if organization_id is not None:
        return webhooks.organization_subscribes(organization_id, f"recipient.{to}")
    return bool(webhooks.subscribed_organization_ids(f"recipient.{to}"))


def enqueue_recipient_events(*, queryset, to: str, stamp: str, at, organization_id: int | None = None) -> int:
    """One `INSERT … SELECT`: an event per recipient of `queryset` that just moved to `to` (stamped `at`)."""
    event_type = f"recipient.{to}"
    if organization_id is not None:
        organization_ids = {organization_id}
    else:
        organization_ids = webhooks.subscribed_organization_ids(event_type)
    if not organization_ids:
        return 0
    rows = (
        Recipient.objects.filter(
            pk__in=queryset.order_by().values("pk"),
            status=to,
            execution__organization_id__in=organization_ids,
            **{stamp: at},
        )
        .order_by()
        .annotate(
            e_organization=F("execution__organization_id"),
            e_type=Value(event_type),
            e_key=Concat(Value(f"{event_type}:"), Cast("id", CharField()), output_field=CharField()),
            e_payload=JSONObject(
                recipient_id="id",
                execution_id="execution_id",
                flow_automation_id="execution__campaign_id",
                contact_id="contact_id",
                phone="phone",
                status=Value(to),
                provider_message_id="provider_message_id",
                error="error",
                occurred_at=stamp,
            ),
            e_at=F(stamp),
        )
        .values_list("e_organization", "e_type", "e_key", "e_payload", "e_at")
    )
    return webhooks.enqueue_events_from(rows)


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
