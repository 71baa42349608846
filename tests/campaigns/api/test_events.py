"""`POST /api/v1/events`: inbound business events start the campaigns subscribed to them, for one contact."""

import pytest

from campaigns.models import Campaign, Execution, InboundEvent, Recipient
from campaigns.sending import dispatch
from contacts.models import Contact
from tests.factories.campaigns import CampaignFactory, ExecutionFactory, make_evolution_instance, make_flow

pytestmark = pytest.mark.django_db

SEND = r"^/message/sendText/"
EVENT = {
    "event": "payment.overdue",
    "contact": {"phone": "+55 11 98888-7777", "name": "Ana"},
    "data": {"amount": "R$ 120,00"},
}


@pytest.fixture
def overdue_campaign(org_a, fake_provider):
    instance = make_evolution_instance(org_a, fake_provider.url)
    flow = make_flow(org_a, "Olá {{customer_name}}, sua fatura de {{event.amount}} venceu.", wait_for_reply=False)
    campaign = CampaignFactory(
        organization=org_a,
        flow=flow,
        instances=[instance],
        trigger_type=Campaign.TriggerType.WEBHOOK,
        trigger_config={"event": "payment.overdue"},
        audience_type=Campaign.AudienceType.ALL,
        variable_mapping={"customer_name": "{{contact.name}}"},
        max_concurrent_executions=10,
        status=Campaign.Status.ACTIVE,
    )
    return campaign


def test_an_event_starts_the_subscribed_campaign_for_that_contact_only(
    alice_client, org_a, overdue_campaign, fake_provider
):
    Contact.objects.create(organization=org_a, phone="+5511977776666", name="Outro")

    response = alice_client.post("/api/v1/events", EVENT, format="json")

    assert response.status_code == 202, response.content
    [started] = response.data["started"]
    assert started["flow_automation_id"] == overdue_campaign.id
    execution = Execution.objects.get(id=started["execution_id"])
    assert execution.type == "event" and execution.trigger_event == "payment.overdue"
    [recipient] = Recipient.objects.filter(execution=execution)
    assert recipient.phone == "+5511988887777"
    assert recipient.variables == {"customer_name": "Ana", "event": {"amount": "R$ 120,00"}}
    assert Contact.objects.get(organization=org_a, phone="+5511988887777").name == "Ana"

    assert dispatch.run(execution.id) == "done"
    [sent] = fake_provider.requests_to(SEND)
    assert sent.json["number"] == "5511988887777"
    assert sent.json["text"] == "Olá Ana, sua fatura de R$ 120,00 venceu."


def test_a_retry_with_the_same_idempotency_key_starts_nothing_more(alice_client, overdue_campaign):
    first = alice_client.post("/api/v1/events", EVENT, format="json", HTTP_IDEMPOTENCY_KEY="inv-77-overdue")
    again = alice_client.post("/api/v1/events", EVENT, format="json", HTTP_IDEMPOTENCY_KEY="inv-77-overdue")

    assert first.status_code == again.status_code == 202
    assert again.data == first.data
    assert again["Idempotent-Replayed"] == "true"
    assert Execution.objects.filter(campaign=overdue_campaign).count() == 1
    assert InboundEvent.objects.filter(idempotency_key="inv-77-overdue").count() == 1


def test_without_a_key_each_post_starts_again(alice_client, overdue_campaign):
    alice_client.post("/api/v1/events", EVENT, format="json")
    alice_client.post("/api/v1/events", EVENT, format="json")

    assert Execution.objects.filter(campaign=overdue_campaign).count() == 2


def test_an_unknown_event_is_accepted_and_says_nothing_started(alice_client, overdue_campaign):
    response = alice_client.post("/api/v1/events", {**EVENT, "event": "order.shipped"}, format="json")

    assert response.status_code == 202
    assert response.data["started"] == []
    assert "nothing was started" in response.data["message"]
    assert not Execution.objects.exists()


def test_paused_and_draft_campaigns_are_not_started(alice_client, overdue_campaign):
    Campaign.objects.filter(id=overdue_campaign.id).update(status=Campaign.Status.PAUSED)

    response = alice_client.post("/api/v1/events", EVENT, format="json")

    assert response.data["started"] == [] and not Execution.objects.exists()


def test_an_opted_out_contact_is_not_started(alice_client, org_a, overdue_campaign):
    contact = Contact.objects.create(organization=org_a, phone="+5511988887777", name="Ana")
    contact.mark_opted_out(reason="SAIR", source="keyword:SAIR")

    response = alice_client.post("/api/v1/events", EVENT, format="json")

    assert response.data["started"] == []
    assert response.data["skipped"] == [{"flow_automation_id": overdue_campaign.id, "reason": "opted_out"}]
    assert not Execution.objects.exists()


def test_the_concurrency_limit_is_reported_not_raised(alice_client, overdue_campaign):
    Campaign.objects.filter(id=overdue_campaign.id).update(max_concurrent_executions=1)
    alice_client.post("/api/v1/events", EVENT, format="json")

    response = alice_client.post("/api/v1/events", EVENT, format="json")

    assert response.status_code == 202 and response.data["started"] == []
    assert "max_concurrent_executions" in response.data["skipped"][0]["reason"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**EVENT, "event": "bad event!"}, "event"),
        ({**EVENT, "contact": {"phone": "12"}}, "contact.phone"),
        ({**EVENT, "contact": {}}, "contact"),
        ({**EVENT, "data": {"amount": {"nested": True}}}, "data.amount"),
        ({**EVENT, "data": {"amount": "a\x00b"}}, "data.amount"),
        ({**EVENT, "data": ["x"]}, "data"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(alice_client, overdue_campaign, body, field):
    response = alice_client.post("/api/v1/events", body, format="json")

    assert response.status_code == 400, response.content
    assert field in str(response.data) or field.split(".")[0] in response.data
    assert not Execution.objects.exists()


def test_viewers_cannot_post_events_and_others_start_nothing_here(vera_client, charlie_client, overdue_campaign):
    assert vera_client.post("/api/v1/events", EVENT, format="json").status_code == 403
    response = charlie_client.post("/api/v1/events", EVENT, format="json")
    assert response.status_code == 202 and response.data["started"] == []
    assert not Execution.objects.exists()


def test_a_webhook_campaign_needs_an_event_name(alice_client, org_a, overdue_campaign):
    instance_id = overdue_campaign.campaign_instances.first().instance_id
    body = {
        "name": "Cobrança",
        "chatbot_id": overdue_campaign.template_id,
        "flow_id": overdue_campaign.flow_id,
        "whatsapp_number_id": instance_id,
        "trigger_type": "webhook",
        "trigger_config": {},
        "audience_type": "all",
    }
    refused = alice_client.post("/api/v1/flow-automations", body, format="json")
    accepted = alice_client.post(
        "/api/v1/flow-automations", {**body, "trigger_config": {"event": "payment.overdue"}}, format="json"
    )

    assert refused.status_code == 400 and "trigger_config" in refused.data
    assert accepted.status_code == 201, accepted.content
    activated = alice_client.post(f"/api/v1/flow-automations/{accepted.data['id']}/activate")
    assert activated.status_code == 200 and activated.data == {"activated": True}
    assert Campaign.objects.get(id=accepted.data["id"]).status == "active"


def test_the_admin_lists_each_event_with_what_it_started_and_why_the_rest_did_not(
    alice_client, admin_client, org_a, overdue_campaign
):
    from django.urls import reverse

    refused = CampaignFactory(
        organization=org_a,
        name="Paused one",
        trigger_type=Campaign.TriggerType.WEBHOOK,
        trigger_config={"event": "payment.overdue"},
        status=Campaign.Status.ACTIVE,
        max_concurrent_executions=1,
    )
    ExecutionFactory(organization=org_a, campaign=refused, status="running")
    started = alice_client.post("/api/v1/events", EVENT, format="json").data["started"]
    alice_client.post("/api/v1/events", {**EVENT, "event": "nobody.listens"}, format="json")
    event = InboundEvent.objects.get(event="payment.overdue")

    listing = admin_client.get(reverse("admin:campaigns_inboundevent_changelist"), {"outcome": "nothing"})
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [InboundEvent.objects.get(event="nobody.listens")]
    page = admin_client.get(reverse("admin:campaigns_inboundevent_change", args=[event.id])).content.decode()
    execution_url = reverse("admin:campaigns_execution_change", args=[started[0]["execution_id"]])
    assert f'href="{execution_url}"' in page
    assert reverse("admin:campaigns_campaign_change", args=[refused.id]) in page
    assert "max_concurrent_executions" in page
    assert 'name="_save"' not in page
