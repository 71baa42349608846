"""Flow steps that call an integration: resuming the flow when the integration's run ends.

A message with an `action` stops the engine (`engine.WAIT_ACTION`); `flows.services`
asks `integrations` for a run keyed by the conversation and its n-th action (so a run is
never asked twice), and the run's end (`integrations.signals.action_finished`, after its
commit, in the worker) feeds `engine.after_action`, which goes on, or to `on_error`.
The step's settings are checked by the model (`flows.models.design.validate_action_config`).
"""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from flows import engine
from flows.models import Conversation
from flows.sending import send_due_for_conversation
from flows.services import apply_decision, position_of
from flows.specs import flow_spec

logger = logging.getLogger(__name__)


def resume_after_action(*, run) -> str:
    """A run ended: the conversation still waiting for it goes on (or to its on_error subflow)."""
    if not run.reference.startswith("conversation:"):
        return "not_ours"
    conversation_id = int(run.reference.split(":", 1)[1])
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("flow", "contact")
            .filter(id=conversation_id)
            .first()
        )
        if (
            conversation is None
            or conversation.status != Conversation.Status.ACTIVE
            or conversation.waiting_for != engine.WAIT_ACTION
            or (conversation.state or {}).get("action_key") != run.key
            or conversation.flow is None
        ):
            return "stale"
        succeeded = run.status == "succeeded"
        error = run.error or (_("The outcome is unknown.") if run.status == "unknown" else "")
        decision = engine.after_action(
            flow_spec(conversation.flow),
            position_of(conversation),
            conversation.variables,
            succeeded=succeeded,
            result=run.result or {},
            error=error,
        )
        apply_decision(conversation=conversation, decision=decision, now=timezone.now())
    send_due_for_conversation(conversation_id=conversation_id)
    return decision.reason


def on_action_finished(sender, run, **kwargs) -> None:
    outcome = resume_after_action(run=run)
    logger.info("action run %s (%s) for %s: %s", run.id, run.status, run.reference, outcome)
