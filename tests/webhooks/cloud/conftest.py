import json
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.models import Recipient
from tests.factories.campaigns import CampaignFactory, ExecutionFactory
from tests.factories.contacts import ContactFactory
from tests.factories.instances import CloudInstanceFactory
from tests.support.fakes.graph_api import signature

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cloud"
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "app-secret-1234"
SENT_ID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3N0VDNjc2ODY2NTY1QUQ0QjcA"
PHONE = "+16505551234"


def load(name: str) -> dict:
    return json.loads((FIXTURES / "v1" / name).read_text())


def post(instance, payload, *, secret: str = APP_SECRET, signed: bool = True, header: str | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {}
    if signed:
        headers["X-Hub-Signature-256"] = header if header is not None else signature(body, secret)
    url = f"/api/webhooks/cloud/{instance.webhook_secret}/"
    return Client().post(url, data=body, content_type="application/json", headers=headers)


@pytest.fixture
def apply_in_request(settings):
    settings.WEBHOOKS_APPLY_IN_REQUEST = True


@pytest.fixture
def cloud(org_a, secret_keys):
    return CloudInstanceFactory(organization=org_a, cloud_phone_number_id=PHONE_NUMBER_ID)


@pytest.fixture
def contact(org_a):
    return ContactFactory(organization=org_a, phone=PHONE, name="Sheena Nelson")


@pytest.fixture
def recipient(org_a, cloud, contact):
    campaign = CampaignFactory(organization=org_a, instances=[cloud], status="active")
    execution = ExecutionFactory(organization=org_a, campaign=campaign, status="running")
    return Recipient.objects.create(
        execution=execution,
        contact=contact,
        instance=cloud,
        phone=PHONE,
        status=Recipient.Status.SENT,
        provider_message_id=SENT_ID,
        claimed_at=timezone.now(),
        sent_at=timezone.now(),
    )
