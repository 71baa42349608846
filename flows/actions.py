"""Flow steps that call an integration: their settings, their runs, and resuming after them.

A message with an `action` stops the engine (`engine.WAIT_ACTION`); `flows.services`
asks `integrations` for a run keyed by the conversation and its n-th action (so a run is
never asked twice), and the run's end (`integrations.signals.action_finished`, after its
commit, in the worker) feeds `engine.after_action`, which goes on, or to `on_error`.
"""

import logging
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.jsoncheck import json_problem

logger = logging.getLogger(__name__)

_VARIABLE = re.compile(r"^[A-Za-z_][\w]{0,63}$")
REQUIRED_PARAMS = {
    "pontta_create_ticket": ("subject", "message"),
    "sheets_append_row": ("spreadsheet_id", "values"),
    "sheets_lookup": ("spreadsheet_id", "column", "value"),
    "drive_upload_file": ("folder_id",),
    "http_request": ("url",),
}


def validate_action_config(action: str, config) -> dict:
    """Errors of an action step's settings, keyed `action_config` (empty when valid)."""
    if action not in REQUIRED_PARAMS:
        return {"action": _("Unknown action.")}
    if not isinstance(config, dict):
        return {"action_config": _("Must be a JSON object.")}
    if problem := json_problem(config):
        return {"action_config": problem}
    unknown = set(config) - {"integration", "params", "outputs"}
    if unknown:
        return {"action_config": _("Unknown key %(key)s.") % {"key": sorted(unknown)[0]}}
    integration = config.get("integration", "")
    if not isinstance(integration, str) or (action != "http_request" and not integration.strip()):
        return {"action_config": _("integration: the name of one of the organization's integrations.")}
    params = config.get("params", {})
    if not isinstance(params, dict):
        return {"action_config": _("params must be an object.")}
    for name in REQUIRED_PARAMS[action]:
        if params.get(name) in (None, "", []):
            return {"action_config": _("params.%(name)s is required for this action.") % {"name": name}}
    if action == "sheets_append_row" and not isinstance(params.get("values"), list):
        return {"action_config": _("params.values must be a list of columns.")}
    outputs = config.get("outputs", {})
    if not isinstance(outputs, dict) or not all(
        isinstance(k, str) and _VARIABLE.match(k) and isinstance(v, str) and v for k, v in outputs.items()
    ):
        return {"action_config": _('outputs maps variable names to result fields, e.g. {"ticket_id": "ticket_id"}.')}
    return {}


def action_key(conversation_id: int, sequence: int) -> str:
    return f"conversation:{conversation_id}:action:{sequence}"


def request_action(*, conversation, request) -> None:
    """Ask for the run of the step the engine stopped at (inside the caller's transaction)."""
    from integrations.services.actions import request_run

    sequence = int((conversation.state or {}).get("action_seq", 0)) + 1
    key = action_key(conversation.id, sequence)
    conversation.state = {**(conversation.state or {}), "action_seq": sequence, "action_key": key}
    params = dict(request.params)
    if request.message.action == "drive_upload_file":
        params = _with_received_file(conversation, params)
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
    from flows.models import ReceivedFile

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


def resume_after_action(*, run) -> str:
    """A run ended: the conversation still waiting for it goes on (or to its on_error subflow)."""
    from flows import engine
    from flows.models import Conversation
    from flows.queries import flow_spec
    from flows.sending import send_due_for_conversation
    from flows.services import apply_decision, position_of

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
