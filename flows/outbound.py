"""What flows tell other systems: `conversation.completed`, into the integrations outbox."""

from integrations.services import webhooks


def enqueue_conversation_completed(*, conversation) -> bool:
    """Written in the transaction that completes the conversation (the outbox promise)."""
    return webhooks.enqueue_event(
        organization_id=conversation.organization_id,
        type="conversation.completed",
        key=f"conversation.completed:{conversation.id}",
        payload={
            "conversation_id": conversation.id,
            "contact_id": conversation.contact_id,
            "phone": conversation.contact.phone,
            "flow_id": conversation.flow_id,
            "variables": conversation.variables,
        },
    )
