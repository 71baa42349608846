"""Services of conversations: store the engine's decisions, end conversations, ask for action runs.

Sending follows DESIGN's order: a decision is stored with its outgoing messages as
`ScheduledSend` rows and committed, then `flows.sending` claims each row and calls
the provider outside any transaction. The rows' builders, their tasks queued on commit
and a completion's outbox row and signal are here because both the starts
(`flows.starting`) and the sends (`flows.sending`) write them. An action step asks
`integrations` for a run keyed by the conversation and its n-th action, so a run is
never asked twice (`flows.actions` resumes the flow when it ends). Authoring: a changed
subflow or message bumps its flow's `content_version` (`bump_flow_version`).
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from flows import engine
from flows.models import Conversation, Flow, MessageHistory, ReceivedFile, ScheduledSend, Subflow
from flows.outbound import enqueue_conversation_completed
from flows.signals import conversation_completed
from flows.timeouts import arm_timers
from instances.providers.base import SendResult
from integrations.services.actions import request_run

# Scheduled sends due later than this are left to the beat sweep, not a countdown task.
MAX_COUNTDOWN_SECONDS = 300


def initial_variables(contact, variables: dict | None) -> dict:
    """A new conversation's variables: `name`, `phone`, the given ones, and `contact` for `{{contact.<field>}}`."""
    return {"name": contact.name, "phone": contact.phone, **(variables or {}), "contact": contact_variables(contact)}


def contact_variables(contact) -> dict:
    """What `{{contact.<field>}}` reads, as a campaign's variable mapping does (campaigns.variables).

    The contact's fields (times in ISO 8601, UTC, to the second), `custom_fields`, and each
    custom field by its own name too (`{{contact.company}}`) unless a field has that name.
    """

    def iso(value):
        return value.astimezone(UTC).replace(microsecond=0).isoformat() if value else ""

    custom = dict(contact.custom_fields or {})
    fields = {
        "name": contact.name,
        "phone": contact.phone,
        "email": contact.email,
        "created_at": iso(contact.created_at),
        "last_interaction_at": iso(contact.last_interaction_at),
        "custom_fields": custom,
    }
    return {**custom, **fields}


def end_active_conversations(*, contact_id: int, instance_id: int, now: datetime | None = None) -> int:
    """End the contact's active conversation on the instance (cancelling its pending sends)."""
    return end_active_pairs([(contact_id, instance_id)], now=now or timezone.now())


def end_active_pairs(pairs: list[tuple[int, int]], *, now: datetime) -> int:
    """End the active conversations of these (contact id, instance id) pairs: two statements for any number."""
    contacts_by_instance = defaultdict(list)
    for contact_id, instance_id in pairs:
        contacts_by_instance[instance_id].append(contact_id)
    match = reduce(
        or_,
        (Q(instance_id=instance_id, contact_id__in=ids) for instance_id, ids in contacts_by_instance.items()),
    )
    active = Conversation.objects.filter(match, status=Conversation.Status.ACTIVE)
    ScheduledSend.objects.filter(conversation__in=active, status=ScheduledSend.Status.PENDING).update(
        status=ScheduledSend.Status.CANCELLED
    )
    return active.update(status=Conversation.Status.ENDED, ended_at=now, waiting_for="")


@transaction.atomic
def end_conversation(*, conversation: Conversation) -> bool:
    """Close an active conversation (operator or ticket); False if it was no longer active."""
    now = timezone.now()
    changed = Conversation.objects.filter(id=conversation.id, status=Conversation.Status.ACTIVE).update(
        status=Conversation.Status.ENDED, ended_at=now, waiting_for=""
    )
    if changed:
        ScheduledSend.objects.filter(conversation_id=conversation.id, status=ScheduledSend.Status.PENDING).update(
            status=ScheduledSend.Status.CANCELLED
        )
        conversation.refresh_from_db(fields=["status", "ended_at", "waiting_for"])
    return bool(changed)


def apply_decision(
    *, conversation: Conversation, decision: engine.Decision, now: datetime, not_before: datetime | None = None
) -> list[ScheduledSend]:
    """Store `decision` on an active conversation (inside the caller's transaction).

    Returns the `ScheduledSend` rows created; those due now are for the caller to send
    after commit, later ones get a countdown task on commit. `not_before` holds the
    first send back (the bot's cooldown between replies).
    """
    if decision.changes_position:
        # The conversation moved: a delayed message still pending belongs to where it was.
        ScheduledSend.objects.filter(conversation_id=conversation.id, status=ScheduledSend.Status.PENDING).update(
            status=ScheduledSend.Status.CANCELLED
        )
        set_position(conversation, decision.position, completed=decision.completed, now=now)
    conversation.variables = decision.variables
    conversation.last_interaction_at = now
    if decision.action is not None:
        request_action(conversation=conversation, request=decision.action)
    conversation.save(
        update_fields=[
            "subflow",
            "current_message",
            "waiting_for",
            "variables",
            "state",
            "status",
            "completed_at",
            "last_interaction_at",
        ]
    )
    if decision.changes_position:
        arm_timers([conversation], now=now)
    start_at = max(now, not_before) if not_before else now
    scheduled = [
        scheduled_send(conversation, outgoing, due_at=start_at + timedelta(seconds=outgoing.delay_seconds), sequence=i)
        for i, outgoing in enumerate(decision.outgoing)
    ]
    if scheduled:
        ScheduledSend.objects.bulk_create(scheduled)
        queue_sends_on_commit([s for s in scheduled if s.due_at > now])
    if conversation.status == Conversation.Status.COMPLETED:
        signal_completed_on_commit(conversation)
    return scheduled


def set_position(conversation: Conversation, position: engine.Position | None, *, completed: bool, now) -> None:
    if completed or position is None:
        conversation.status = Conversation.Status.COMPLETED if completed else conversation.status
        conversation.completed_at = now if completed else conversation.completed_at
        conversation.waiting_for = ""
        return
    conversation.subflow_id = position.subflow_id
    conversation.current_message_id = position.message_id
    conversation.waiting_for = position.waiting


def position_of(conversation: Conversation) -> engine.Position | None:
    if conversation.subflow_id is None or conversation.current_message_id is None:
        return None
    return engine.Position(conversation.subflow_id, conversation.current_message_id, conversation.waiting_for)


def scheduled_send(conversation, outgoing: engine.Outgoing, *, due_at, sequence: int) -> ScheduledSend:
    return ScheduledSend(
        conversation=conversation,
        flow_message_id=outgoing.message.id if outgoing.message else None,
        text=outgoing.text,
        continues=outgoing.continues,
        due_at=due_at,
        sequence=sequence,
    )


def outbound_history(conversation, outgoing: engine.Outgoing, result: SendResult) -> MessageHistory:
    message = outgoing.message
    return MessageHistory(
        organization_id=conversation.organization_id,
        conversation=conversation,
        contact_id=conversation.contact_id,
        instance_id=conversation.instance_id,
        direction=MessageHistory.Direction.OUTBOUND,
        message_type=message.message_type if message else "text",
        text=outgoing.text,
        media_url=message.media_url if message else "",
        flow_message_id=message.id if message else None,
        provider_message_id=result.provider_message_id,
    )


def queue_sends_on_commit(scheduled: list[ScheduledSend]) -> None:
    from flows.tasks import send_scheduled

    for send in scheduled:
        if send.status != ScheduledSend.Status.PENDING:
            continue
        countdown = max(0.0, (send.due_at - timezone.now()).total_seconds())
        if countdown <= MAX_COUNTDOWN_SECONDS:
            send_id = send.id
            transaction.on_commit(
                lambda send_id=send_id, c=countdown: send_scheduled.apply_async((send_id,), countdown=c)
            )


def signal_completed_on_commit(conversation: Conversation) -> None:
    enqueue_conversation_completed(conversation=conversation)
    transaction.on_commit(lambda: conversation_completed.send(sender=Conversation, conversation=conversation))


def bump_flow_version(sender, instance, **kwargs) -> None:
    """A subflow or message changed: the engine's cached spec of its flow is stale."""
    flow_id = instance.flow_id if isinstance(instance, Subflow) else None
    if flow_id is None:
        flow_id = Subflow.objects.filter(id=instance.subflow_id).values_list("flow_id", flat=True).first()
    if flow_id is not None:
        Flow.objects.filter(id=flow_id).update(content_version=F("content_version") + 1)


def action_key(conversation_id: int, sequence: int) -> str:
    return f"conversation:{conversation_id}:action:{sequence}"


def request_action(*, conversation, request) -> None:
    """Ask for the run of the step the engine stopped at (inside the caller's transaction)."""
    sequence = int((conversation.state or {}).get("action_seq", 0)) + 1
    key = action_key(conversation.id, sequence)
    conversation.state = {**(conversation.state or {}), "action_seq": sequence, "action_key": key}
    params = dict(request.params)
    if request.message.action == "drive_upload_file":
        params = _with_received_file(conversation, params)
    if request.message.action == "gosac_get_contact":
        # Always the conversation's own number and contact: a step cannot name another's.
        params["instance_id"] = conversation.instance_id
        params["contact"] = conversation.external_contact_id or conversation.contact.phone
    request_run(
        organization_id=conversation.organization_id,
        action=request.message.action,
        integration_name=request.message.action_config.get("integration", ""),
        params=params,
        key=key,
        reference=f"conversation:{conversation.id}",
    )


def _with_received_file(conversation, params: dict) -> dict:
    """The file the contact sent last: its stored copy if it has one yet, else its URL."""
    received = ReceivedFile.objects.filter(conversation_id=conversation.id).order_by("-id").first()
    url = (conversation.variables or {}).get("last_file", "")
    if received is not None:
        url = received.media_url or url
        params.setdefault("name", received.original_name)
        params.setdefault("mimetype", received.file_type)
        if received.file:
            params["storage_path"] = received.file.name
    params["file_url"] = url if str(url).startswith(("http://", "https://")) else ""
    if not params.get("name"):
        params["name"] = str(url).split("?", 1)[0].rsplit("/", 1)[-1] or "arquivo"
    return params
