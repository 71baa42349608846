"""Runs of flow-step actions with the dispatcher's promise: claimed before the call, never repeated in doubt.

A caller (the flows app) asks for a run with `request_run` inside its transaction; a
worker claims it (pending -> running, committed) and only then calls the partner. An
error proving nothing happened puts it back to pending with backoff; an ambiguous
outcome (timeout after sending, a worker that died holding the lease) makes it
`unknown`, and it is never run again. Every finished run sends `action_finished`.
"""

import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from instances.models import WhatsAppInstance
from instances.providers import get_provider
from instances.providers.base import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from integrations import http
from integrations.clients import google, http_api, pontta
from integrations.errors import (
    IntegrationError,
    IntegrationOutcomeUnknown,
    IntegrationRejected,
    IntegrationUnavailable,
)
from integrations.models import ActionRun, Integration
from integrations.signals import action_finished

logger = logging.getLogger(__name__)

NEEDS_KIND = {
    "pontta_create_ticket": Integration.Kind.PONTTA,
    "pontta_list_tickets": Integration.Kind.PONTTA,
    "gosac_get_contact": None,  # the conversation's GOSAC number, not an integration
    "sheets_append_row": Integration.Kind.GOOGLE,
    "sheets_lookup": Integration.Kind.GOOGLE,
    "drive_upload_file": Integration.Kind.GOOGLE,
    "http_request": Integration.Kind.HTTP,
}
MAX_COUNTDOWN_SECONDS = 300


def _create_ticket(integration, params: dict) -> dict:
    ticket = pontta.create_ticket(
        integration,
        contact_id=str(params.get("contact_id", "")),
        subject=str(params.get("subject", "")),
        message=str(params.get("message", "")),
    )
    return {"ticket_id": str(ticket.get("id", "")), "ticket": ticket}


def _list_tickets(integration, params: dict) -> dict:
    tickets = pontta.list_tickets(integration, contact_id=str(params["contact_id"]))
    open_tickets = [t for t in tickets if isinstance(t, dict) and str(t.get("status", "open")).lower() == "open"]
    return {
        "found": bool(open_tickets),
        "count": len(open_tickets),
        "ticket_id": str(open_tickets[0].get("id", "")) if open_tickets else "",
        "tickets": open_tickets,
    }


def _gosac_contact(run: ActionRun) -> dict:
    """GOSAC's contact of the conversation (`GET {base}/contacts/{id}`), its fields as results."""
    params = run.params or {}
    instance = WhatsAppInstance.objects.filter(
        id=params.get("instance_id"), organization_id=run.organization_id, provider=WhatsAppInstance.Provider.GOSAC
    ).first()
    if instance is None:
        raise IntegrationRejected("This conversation is not on a GOSAC number.", code="not_gosac")
    try:
        contact = get_provider(instance.provider).get_contact(instance, str(params.get("contact", "")))
    except ProviderRejected as exc:
        raise IntegrationRejected(str(exc), code=exc.code or "rejected") from None
    except (ProviderUnavailable, ProviderOutcomeUnknown) as exc:
        raise IntegrationUnavailable(str(exc), code=exc.code or "unavailable") from None  # a read: safe to retry
    return {"found": True, "contact": contact, **{k: v for k, v in contact.items() if not isinstance(v, dict | list)}}


def _append_row(integration, params: dict) -> dict:
    values = params.get("values") or []
    return google.append_row(
        integration, spreadsheet_id=params["spreadsheet_id"], sheet=params.get("sheet", "A:Z"), values=values
    )


def _lookup(integration, params: dict) -> dict:
    row = google.lookup_row(
        integration,
        spreadsheet_id=params["spreadsheet_id"],
        sheet=params.get("sheet", "A:Z"),
        column=params["column"],
        value=params.get("value", ""),
    )
    return {"found": row is not None, "row": row or {}}


def _file_content(params: dict) -> bytes:
    path = params.get("storage_path") or ""
    if path and default_storage.exists(path):
        with default_storage.open(path, "rb") as handle:
            return handle.read()
    url = params.get("file_url") or ""
    if not url:
        raise IntegrationRejected("No file to upload: the contact has not sent one.", code="no_file")
    answer = http.request("GET", url)
    http.raise_for_answer(answer, what="Downloading the received file")
    return answer.content


def _upload(integration, params: dict) -> dict:
    content = _file_content(params)
    return google.upload_file(
        integration,
        folder_id=params.get("folder_id", ""),
        name=params.get("name") or "arquivo",
        mimetype=params.get("mimetype", ""),
        content=content,
    )


def _http(integration, params: dict) -> dict:
    return http_api.call(integration, method=params.get("method", "POST"), url=params["url"], body=params.get("body"))


ACTIONS = {
    "pontta_create_ticket": _create_ticket,
    "pontta_list_tickets": _list_tickets,
    "sheets_append_row": _append_row,
    "sheets_lookup": _lookup,
    "drive_upload_file": _upload,
    "http_request": _http,
}


def request_run(
    *, organization_id: int, action: str, integration_name: str, params: dict, key: str, reference: str
) -> ActionRun:
    """Ask for a run (inside the caller's transaction); the same key gives the same run, run once."""
    integration = None
    if integration_name:
        integration = Integration.objects.filter(organization_id=organization_id, name=integration_name).first()
    run, created = ActionRun.objects.get_or_create(
        organization_id=organization_id,
        key=key,
        defaults={
            "action": action,
            "integration": integration,
            "reference": reference,
            "params": params,
            "next_attempt_at": timezone.now(),
        },
    )
    if created:
        transaction.on_commit(lambda: _queue(run.id, 0))
    return run


def _queue(run_id: int, countdown: float) -> None:
    from integrations.tasks import run_action

    run_action.apply_async((run_id,), countdown=countdown)


def _claim(run_id: int) -> ActionRun | None:
    now = timezone.now()
    with transaction.atomic():
        claimed = ActionRun.objects.filter(id=run_id, status=ActionRun.Status.PENDING, next_attempt_at__lte=now).update(
            status=ActionRun.Status.RUNNING, claimed_at=now, attempts=F("attempts") + 1
        )
    if claimed != 1:
        return None
    return ActionRun.objects.select_related("integration").get(id=run_id)


def run_action(*, run_id: int) -> str:
    """Claim and run one due run; returns its status afterwards ("not_claimed" if another has it)."""
    run = _claim(run_id)
    if run is None:
        return "not_claimed"
    started = time.monotonic()
    try:
        result = _call(run)
    except IntegrationUnavailable as exc:
        if run.attempts < settings.INTEGRATIONS_ACTION_MAX_ATTEMPTS:
            delay = _backoff(run.attempts)
            ActionRun.objects.filter(id=run.id, status=ActionRun.Status.RUNNING).update(
                status=ActionRun.Status.PENDING,
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
                error=str(exc)[:500],
                latency_ms=_ms(started),
            )
            logger.info("action run %s: %s, retrying in %.0fs", run.id, exc, delay)
            if delay <= MAX_COUNTDOWN_SECONDS:
                _queue(run.id, delay)
            return ActionRun.Status.PENDING
        return _finish(run, ActionRun.Status.FAILED, error=str(exc), started=started)
    except IntegrationOutcomeUnknown as exc:
        return _finish(run, ActionRun.Status.UNKNOWN, error=str(exc), started=started)
    except IntegrationError as exc:
        return _finish(run, ActionRun.Status.FAILED, error=str(exc), started=started)
    return _finish(run, ActionRun.Status.SUCCEEDED, result=result, started=started)


def _call(run: ActionRun) -> dict:
    if run.action == "gosac_get_contact":
        return _gosac_contact(run)
    action = ACTIONS.get(run.action)
    if action is None:
        raise IntegrationRejected(f"Unknown action {run.action!r}.", code="unknown_action")
    integration = run.integration
    kind = NEEDS_KIND[run.action]
    if kind != Integration.Kind.HTTP or integration is not None:
        if integration is None or not integration.is_active:
            raise IntegrationRejected("The integration this step names is missing or inactive.", code="no_integration")
        if integration.kind != kind:
            raise IntegrationRejected(
                f"{run.action} needs a {kind} integration, {integration.name} is {integration.kind}.", code="wrong_kind"
            )
    try:
        return action(integration, run.params or {})
    except KeyError as exc:
        raise IntegrationRejected(f"The step's configuration lacks {exc.args[0]!r}.", code="bad_config") from None


def _finish(run: ActionRun, status: str, *, result: dict | None = None, error: str = "", started=None) -> str:
    with transaction.atomic():
        updated = ActionRun.objects.filter(id=run.id, status=ActionRun.Status.RUNNING).update(
            status=status,
            result=result or {},
            error=error[:500],
            finished_at=timezone.now(),
            latency_ms=_ms(started) if started else None,
        )
        if updated:
            if status != ActionRun.Status.SUCCEEDED:
                logger.warning("action run %s %s: %s", run.id, status, error)
            transaction.on_commit(lambda: _announce(run.id))
    return status


def _announce(run_id: int) -> None:
    run = ActionRun.objects.get(id=run_id)
    action_finished.send(sender=ActionRun, run=run)


def _backoff(attempts: int) -> float:
    return settings.INTEGRATIONS_ACTION_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0) * random.uniform(0.8, 1.2)


def _ms(started) -> int:
    return int((time.monotonic() - started) * 1000)


def expire_leases() -> int:
    """Runs left `running` by a dead worker become `unknown`: the partner may have acted."""
    cutoff = timezone.now() - timedelta(seconds=settings.INTEGRATIONS_ACTION_LEASE_SECONDS)
    ids = list(
        ActionRun.objects.filter(status=ActionRun.Status.RUNNING, claimed_at__lt=cutoff).values_list("id", flat=True)
    )
    for run_id in ids:
        with transaction.atomic():
            if ActionRun.objects.filter(id=run_id, status=ActionRun.Status.RUNNING).update(
                status=ActionRun.Status.UNKNOWN, error="The worker died while running it.", finished_at=timezone.now()
            ):
                transaction.on_commit(lambda run_id=run_id: _announce(run_id))
    return len(ids)


def run_due(*, limit: int = 100) -> int:
    """The beat sweep: dead leases become unknown; due runs whose task was lost are run."""
    expire_leases()
    due = ActionRun.objects.filter(status=ActionRun.Status.PENDING, next_attempt_at__lte=timezone.now())
    ids = list(due.order_by("next_attempt_at").values_list("id", flat=True)[:limit])
    return sum(run_action(run_id=run_id) != "not_claimed" for run_id in ids)
