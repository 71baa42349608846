"""Connections: create and update integrations (secrets encrypted on the way in), test them."""

import logging

from django.db import transaction
from django.utils import timezone

from integrations.clients import google, http_api, pontta
from integrations.errors import IntegrationError
from integrations.models import Integration, validate_secrets

logger = logging.getLogger(__name__)

CLIENTS = {Integration.Kind.PONTTA: pontta, Integration.Kind.GOOGLE: google, Integration.Kind.HTTP: http_api}


@transaction.atomic
def create_integration(*, organization, kind: str, name: str, settings: dict | None = None, secrets=None, **fields):
    integration = Integration(organization=organization, kind=kind, name=name, settings=settings or {}, **fields)
    integration.full_clean(exclude=["organization"])
    integration.set_secrets(validate_secrets(kind, secrets, creating=True))
    integration.save()
    return integration


@transaction.atomic
def update_integration(*, integration: Integration, secrets=None, **fields) -> Integration:
    """Change fields; `secrets` merge over the stored ones (a key left out or empty is kept)."""
    for name, value in fields.items():
        setattr(integration, name, value)
    integration.full_clean(exclude=["organization"])
    if secrets:
        integration.set_secrets(validate_secrets(integration.kind, secrets, creating=False))
    integration.save()
    return integration


def check_integration(*, integration: Integration) -> tuple[bool, str]:
    """Call the partner once (a login, a token, a GET) and record the outcome on the integration."""
    try:
        ok, message = True, CLIENTS[integration.kind].test_connection(integration)
    except IntegrationError as exc:
        ok, message = False, str(exc)
    logger.info("integration %s test: %s", integration.id, "ok" if ok else "failed")
    Integration.objects.filter(id=integration.id).update(
        last_tested_at=timezone.now(), last_test_ok=ok, last_test_message=message[:500]
    )
    integration.last_test_ok, integration.last_test_message = ok, message[:500]
    return ok, message


def integration_by_name(*, organization_id: int, name: str) -> Integration | None:
    return Integration.objects.filter(organization_id=organization_id, name=name, is_active=True).first()
