import json
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.models import Recipient
from tests.factories.campaigns import CampaignFactory, ExecutionFactory
from tests.factories.contacts import ContactFactory
from tests.factories.instances import EvolutionInstanceFactory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "evolution"
INSTANCE_NAME = "loja-centro"
API_KEY = "B6D711FCDE4D4FD5936544120E713976"
MESSAGE_ID = "BAE594145F4C59B4"
PHONE = "+5511987654321"


def fixture_names() -> list[str]:
    return sorted(str(path.relative_to(FIXTURES)) for path in FIXTURES.glob("v*/*.json"))


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def post(instance, payload, *, path: str | None = None, **headers):
    url = path if path is not None else f"/api/webhooks/evolution/{instance.webhook_secret}/"
    body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
    return Client().post(url, data=body, content_type="application/json", headers=headers)


@pytest.fixture
def apply_in_request(settings):
    settings.WEBHOOKS_APPLY_IN_REQUEST = True


@pytest.fixture
def instance(org_a):
    return EvolutionInstanceFactory(
        organization=org_a, instance_name=INSTANCE_NAME, api_key=API_KEY, connection_state="connecting"
    )


@pytest.fixture
def contact(org_a):
    return ContactFactory(organization=org_a, phone=PHONE, name="Maria Souza")


@pytest.fixture
def execution(org_a, instance):
    campaign = CampaignFactory(organization=org_a, instances=[instance], status="active")
    return ExecutionFactory(organization=org_a, campaign=campaign, status="running")


@pytest.fixture
def recipient(instance, contact, execution):
    """Our campaign message to Maria: sent, its WhatsApp id the one the fixtures carry."""
    return Recipient.objects.create(
        execution=execution,
        contact=contact,
        instance=instance,
        phone=PHONE,
        status=Recipient.Status.SENT,
        provider_message_id=MESSAGE_ID,
        claimed_at=timezone.now(),
        sent_at=timezone.now(),
    )
