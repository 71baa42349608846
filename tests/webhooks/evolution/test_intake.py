"""The intake: the sandbox sink applies at once, a burst wakes one drainer."""

from django.utils import timezone

from campaigns.models import Recipient
from instances.providers.sandbox import status_payload
from tests.factories.campaigns import CampaignFactory, ExecutionFactory
from tests.factories.instances import SandboxMessageFactory, WhatsAppInstanceFactory
from webhooks.evolution import intake, queue
from webhooks.models import WebhookEvent

from .conftest import load, post


def test_the_sandbox_sink_applies_its_simulated_webhooks(org_a, contact):
    sandbox = WhatsAppInstanceFactory(organization=org_a)
    message = SandboxMessageFactory(instance=sandbox, organization=org_a, to_phone=contact.phone)
    execution = ExecutionFactory(organization=org_a, campaign=CampaignFactory(organization=org_a, instances=[sandbox]))
    recipient = Recipient.objects.create(
        execution=execution,
        contact=contact,
        instance=sandbox,
        phone=contact.phone,
        status="sent",
        provider_message_id=message.provider_message_id,
    )

    outcome = intake.accept_sandbox_payload(status_payload(message, status="READ", at=timezone.now()))

    assert outcome.status == "read"
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.READ


def test_a_burst_wakes_one_drainer_that_applies_every_stored_event(
    instance, recipient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for name in ["v2/messages_update_delivered.json", "v2/messages_update_read.json", "v2/messages_delete.json"]:
            assert post(instance, load(name)).json()["status"] == "accepted"

    assert len(callbacks) == 1
    assert queue.drain() == 3
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"applied"}
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.READ
