"""A number created through the API sends a campaign with no other call (real workers, fake Evolution over HTTP)."""

import pytest
from django.conf import settings

from campaigns.models import Execution, Recipient
from contacts.models import Contact
from instances.models import WhatsAppInstance
from tests.factories.campaigns import make_flow
from tests.support.workers import Workers, publish_under_test_prefix, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
SEND = r"^/message/sendText/"


@pytest.fixture
def workers(request):
    if not settings.REDIS_URL or "postgres" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("worker tests run on PostgreSQL and Redis")
    publish_under_test_prefix()
    pool = Workers(2, env={"CAMPAIGNS_TASK_BUDGET_SECONDS": "5"})
    request.addfinalizer(pool.stop)
    return pool.start()


def test_a_number_created_through_the_api_sends_a_campaign(alice_client, org_a, fake_provider, workers):
    flow = make_flow(org_a)
    contacts = [
        Contact.objects.create(organization=org_a, phone=f"+55119888800{i:02d}", name=f"C{i}") for i in range(3)
    ]

    created = alice_client.post(
        "/api/v1/instances",
        {
            "name": "Loja nova",
            "provider": "evolution",
            "base_url": fake_provider.url,
            "instance_name": "loja-nova",
            "api_key": "evo-key-new",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    campaign = alice_client.post(
        "/api/v1/flow-automations",
        {
            "name": "Primeiro disparo",
            "chatbot_id": flow.template_id,
            "flow_id": flow.id,
            "whatsapp_number_id": created.json()["id"],
            "audience_type": "custom",
            "audience_config": {"contact_ids": [c.id for c in contacts]},
            "variable_mapping": {"customer_name": "{{contact.name}}", "discount": "5%"},
        },
        format="json",
    )
    assert campaign.status_code == 201, campaign.json()
    started = alice_client.post(f"/api/v1/flow-automations/{campaign.json()['id']}/start")
    assert started.status_code == 202, started.json()
    execution = Execution.objects.get(id=started.json()["id"])

    def finished():
        """the execution to finish"""
        execution.refresh_from_db()
        return execution.status == Execution.Status.COMPLETED

    wait_for(finished, timeout=120)

    sent = sorted(r.json["number"] for r in fake_provider.requests_to(SEND))
    assert sent == sorted(c.phone.lstrip("+") for c in contacts)
    assert set(Recipient.objects.filter(execution=execution).values_list("status", flat=True)) == {"sent"}
    instance = WhatsAppInstance.objects.get(id=created.json()["id"])
    assert instance.connection_state == "open" and instance.connection_checked_at is not None
    assert [r.path for r in fake_provider.requests_to(r"^/webhook/set/")] == ["/webhook/set/loja-nova"]
