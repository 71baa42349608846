"""The campaigns admin: forms saved through the services, the list, the inline, the actions, recipients and logs."""

import json
import re

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignLog, Execution, Recipient
from campaigns.services.starting import start_campaign
from flows.models import Flow, FlowMessage
from tests.factories.campaigns import CampaignFactory, make_flow
from tests.factories.contacts import ContactFactory
from tests.factories.instances import WhatsAppInstanceFactory
from tests.support.campaign_admin import ADD, change_url, form_data, new_campaign

CHANGELIST = reverse("admin:campaigns_campaign_changelist")


@pytest.fixture
def setup(org_a):
    flow = make_flow(org_a)
    first, second = WhatsAppInstanceFactory(organization=org_a), WhatsAppInstanceFactory(organization=org_a)
    contacts = [ContactFactory(organization=org_a) for _ in range(3)]
    return flow, first, second, contacts


# Creating and editing ------------------------------------------------------------------


def test_a_campaign_added_in_the_admin_is_created_by_the_service(client_, root, setup, org_a):
    flow, first, second, contacts = setup
    response = client_.post(ADD, new_campaign(org_a, setup))

    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign = Campaign.objects.get()
    assert (campaign.status, campaign.created_by, campaign.organization) == ("draft", root[1], org_a)
    assert (campaign.flow, campaign.rate_limit_per_hour, campaign.min_interval_seconds) == (flow, 500, 2.0)
    assert campaign.ordered_instances() == [first, second]
    assert response.url == CHANGELIST


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("another_flow", "flow"),
        ({"min_interval_seconds": "-1"}, "min_interval_seconds"),
        ({"interval_jitter_seconds": "-3"}, "interval_jitter_seconds"),
        ({"variable_mapping": json.dumps({"customer_name": "{{contato.name}}"})}, "variable_mapping"),
        ({"variable_mapping": json.dumps({"customer_name": "{{contact.name"})}, "variable_mapping"),
        ("foreign_number", "whatsapp_number"),
        ("foreign_contacts", "audience_config"),
        ({"execution_window_start": "09:00"}, "execution_window_end"),
    ],
)
def test_the_service_rules_show_on_the_form_fields(client_, setup, org_a, org_b, change, field):
    flow, first, second, contacts = setup
    if change == "another_flow":
        change = {"flow": str(make_flow(org_a).id)}
    elif change == "foreign_number":
        change = {"whatsapp_number": str(WhatsAppInstanceFactory(organization=org_b).id)}
    elif change == "foreign_contacts":
        change = {"audience_config": json.dumps({"contact_ids": [ContactFactory(organization=org_b).id]})}

    response = client_.post(ADD, new_campaign(org_a, setup, **change))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field], errors
    # The field's own row carries the error (the theme marks it with both classes).
    rows = [set(c.split()) for c in re.findall(r'class="([^"]*)"', response.content.decode())]
    assert any({f"field-{field}", "errors"} <= classes for classes in rows)
    assert not Campaign.objects.exists()


def test_a_paused_campaign_is_edited_through_the_service(client_, setup, org_a):
    flow, first, second, contacts = setup
    campaign = CampaignFactory(organization=org_a, flow=flow, instances=[first, second], status="paused")
    page = client_.get(change_url(campaign))
    assert page.status_code == 200
    data = form_data(page)
    assert (data["whatsapp_number"], data["more_whatsapp_numbers"]) == (str(first.id), [str(second.id)])

    data.update(name="Disparo de Natal", whatsapp_number=str(second.id), more_whatsapp_numbers=[str(first.id)])
    response = client_.post(change_url(campaign), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status, campaign.organization) == ("Disparo de Natal", "paused", org_a)
    assert campaign.ordered_instances() == [second, first]


def test_a_running_campaign_cannot_be_edited(client_, setup, org_a):
    flow, first, second, contacts = setup
    campaign = CampaignFactory(organization=org_a, flow=flow, instances=[first], name="Antes")
    Execution.objects.create(organization=org_a, campaign=campaign, status=Execution.Status.RUNNING)
    campaign.transition(Campaign.Status.ACTIVE)
    data = form_data(client_.get(change_url(campaign)))

    response = client_.post(change_url(campaign), {**data, "name": "Depois"})

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Only draft or paused campaigns can be edited (this one is Active)."
    ]
    campaign.refresh_from_db()
    assert campaign.name == "Antes"


def test_an_operator_is_offered_only_their_organizations_numbers_and_flows(operator, setup, org_a, org_b):
    client, user = operator
    flow, first, second, contacts = setup
    foreign_flow, foreign_number = make_flow(org_b), WhatsAppInstanceFactory(organization=org_b)

    page = client.get(ADD)

    form = page.context["adminform"].form
    assert set(form.fields["whatsapp_number"].queryset) == {first, second}
    assert set(form.fields["flow"].queryset) == {flow}
    assert set(form.fields["organization"].queryset) == {org_a}
    response = client.post(
        ADD,
        new_campaign(org_a, setup, flow=str(foreign_flow.id), whatsapp_number=str(foreign_number.id)),
    )
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"flow", "whatsapp_number"}
    assert not Campaign.objects.exists()


# The list and the change page ----------------------------------------------------------


def running_execution(org_a, campaign, statuses) -> Execution:
    execution = Execution.objects.create(organization=org_a, campaign=campaign, status=Execution.Status.RUNNING)
    for status in statuses:
        contact = ContactFactory(organization=org_a)
        Recipient.objects.create(execution=execution, contact=contact, phone=contact.phone, status=status)
    Execution.objects.filter(id=execution.id).update(total_recipients=len(statuses))
    return execution


def test_the_list_shows_each_campaigns_status_and_progress(client_, org_a):
    sending = CampaignFactory(organization=org_a, name="Black Friday", status="active")
    running_execution(org_a, sending, ["sent", "delivered", "pending", "failed"])
    CampaignFactory(organization=org_a, name="Natal")
    CampaignFactory(organization=org_a, name="Apagada", deleted_at=timezone.now())

    response = client_.get(CHANGELIST)

    assert response.status_code == 200
    rows = {c.name: c for c in response.context["cl"].result_list}
    assert set(rows) == {"Black Friday", "Natal"}
    html = response.content.decode()
    assert "Running: 3/4" in html
    statuses = [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r'<td class="field-status[^"]*"[^>]*>(.*?)</td>', html)
    ]
    assert sorted(statuses) == ["Active", "Draft"]


def test_the_change_page_lists_the_executions(client_, org_a):
    campaign = CampaignFactory(organization=org_a, status="active")
    execution = running_execution(org_a, campaign, ["sent", "pending"])
    other = running_execution(org_a, CampaignFactory(organization=org_a), ["sent"])

    response = client_.get(change_url(campaign))

    assert response.status_code == 200
    (inline,) = [i for i in response.context["inline_admin_formsets"] if i.opts.model is Execution]
    assert [form.instance for form in inline.formset.forms] == [execution]
    html = response.content.decode()
    assert reverse("admin:campaigns_execution_change", args=[execution.id]) in html
    assert reverse("admin:campaigns_execution_change", args=[other.id]) not in html


# Actions -------------------------------------------------------------------------------


def action(client, name, campaigns, **extra):
    return client.post(CHANGELIST, {"action": name, "_selected_action": [c.id for c in campaigns], **extra})


def test_start_asks_for_confirmation_with_the_audience_size_then_starts(client_, org_a):
    campaign = CampaignFactory(organization=org_a, name="Black Friday")
    ContactFactory.create_batch(3, organization=org_a)
    ContactFactory(organization=org_a, opted_out_at=timezone.now())
    ContactFactory(organization=org_a, is_active=False)

    confirmation = action(client_, "start", [campaign])

    assert confirmation.status_code == 200
    assert confirmation.templates[0].name == "admin/campaigns/start_confirmation.html"
    assert confirmation.context["rows"] == [(campaign, 3, [])]
    assert '<td class="audience-size">3</td>' in confirmation.content.decode()
    assert not Execution.objects.exists()

    response = action(client_, "start", [campaign], confirmed="1")

    assert response.status_code == 302
    execution = Execution.objects.get()
    assert (execution.campaign, execution.type, execution.total_recipients) == (campaign, "manual", 3)
    assert Recipient.objects.filter(execution=execution, status="pending").count() == 3
    campaign.refresh_from_db()
    assert campaign.status == "active"
    messages = [str(m) for m in client_.get(CHANGELIST).context["messages"]]
    assert messages == [f"Black Friday started: execution #{execution.id} with 3 recipient(s)."]


def test_start_reports_a_refusal_and_starts_nothing(client_, org_a):
    campaign = CampaignFactory(organization=org_a, name="Velha", status="archived")

    response = action(client_, "start", [campaign], confirmed="1")

    assert response.status_code == 302
    assert not Execution.objects.exists()
    messages = [str(m) for m in client_.get(CHANGELIST).context["messages"]]
    assert messages == ["Velha: This campaign is archived and cannot start."]


def test_a_placeholder_nothing_fills_shows_before_the_start_and_refuses_it(client_, org_a):
    campaign = CampaignFactory(organization=org_a, name="Cobrança", variable_mapping={})
    message = FlowMessage.objects.filter(subflow__flow=campaign.flow).first()
    FlowMessage.objects.filter(id=message.id).update(text="Oi {{nome}}, {{contact.name}}")
    Flow.objects.filter(id=campaign.flow_id).update(content_version=F("content_version") + 1)
    campaign.refresh_from_db()

    confirmation = action(client_, "start", [campaign])
    response = action(client_, "start", [campaign], confirmed="1")

    problem = f"Flow message {message.id} uses {{{{nome}}}}, which nothing fills"
    assert problem in confirmation.content.decode()
    assert response.status_code == 302 and not Execution.objects.exists()
    messages = [str(m) for m in client_.get(CHANGELIST).context["messages"]]
    assert len(messages) == 1 and messages[0].startswith(f"Cobrança: {problem}")


def test_pause_resume_and_cancel(client_, org_a):
    campaign = CampaignFactory(organization=org_a, status="active")
    execution = running_execution(org_a, campaign, ["sent", "pending", "pending"])

    assert action(client_, "pause", [campaign]).status_code == 302
    execution.refresh_from_db()
    campaign.refresh_from_db()
    assert (campaign.status, execution.status, execution.pause_reason) == ("paused", "paused", "campaign")

    assert action(client_, "resume", [campaign]).status_code == 302
    execution.refresh_from_db()
    campaign.refresh_from_db()
    assert (campaign.status, execution.status, execution.pause_reason) == ("active", "running", "")

    assert action(client_, "cancel", [campaign]).status_code == 302
    execution.refresh_from_db()
    assert execution.status == "cancelled"
    assert sorted(execution.recipients.values_list("status", flat=True)) == ["sent", "skipped", "skipped"]
    assert CampaignLog.objects.filter(execution=execution).count() == 3
    messages = [str(m) for m in client_.get(CHANGELIST).context["messages"]]
    assert messages[-1] == "Cancelled; 2 pending recipient(s) skipped."


def test_send_test_goes_to_the_chosen_contacts_only(client_, org_a, org_b):
    campaign = CampaignFactory(organization=org_a, name="Black Friday")
    chosen, other = ContactFactory(organization=org_a), ContactFactory(organization=org_a)
    foreign = ContactFactory(organization=org_b)

    page = action(client_, "send_test", [campaign])

    assert page.status_code == 200
    assert set(page.context["form"].fields["contacts"].queryset) == {chosen, other}

    refused = action(client_, "send_test", [campaign], confirmed="1", contacts=[foreign.id])
    assert refused.status_code == 200 and "contacts" in refused.context["form"].errors
    assert not Execution.objects.exists()

    response = action(client_, "send_test", [campaign], confirmed="1", contacts=[chosen.id])

    assert response.status_code == 302
    execution = Execution.objects.get()
    assert (execution.type, execution.total_recipients) == ("test", 1)
    assert list(execution.recipients.values_list("contact", flat=True)) == [chosen.id]
    campaign.refresh_from_db()
    assert campaign.status == "draft"


# Recipients and logs -------------------------------------------------------------------


def test_recipients_are_listed_and_read_only(client_, org_a):
    campaign = CampaignFactory(organization=org_a)
    contacts = [ContactFactory(organization=org_a, name=f"Cliente {i}") for i in range(2)]
    execution = start_campaign(campaign=campaign)
    Recipient.objects.filter(contact=contacts[0]).update(status="delivered", provider_message_id="wamid.A1")
    recipient = Recipient.objects.get(contact=contacts[0])

    listing = client_.get(reverse("admin:campaigns_recipient_changelist"), {"status__exact": "delivered"})

    assert listing.status_code == 200
    assert [r.id for r in listing.context["cl"].result_list] == [recipient.id]
    assert "wamid.A1" in listing.content.decode()
    assert execution.recipients.count() == 2

    detail = client_.get(reverse("admin:campaigns_recipient_change", args=[recipient.id]))
    assert detail.status_code == 200
    assert detail.context["has_change_permission"] is False
    assert client_.get(reverse("admin:campaigns_recipient_add")).status_code == 403


def test_campaign_logs_are_listed_and_read_only(client_, org_a):
    campaign = CampaignFactory(organization=org_a, name="Black Friday")
    execution = start_campaign(campaign=campaign)
    log = CampaignLog.objects.get(execution=execution)

    listing = client_.get(reverse("admin:campaigns_campaignlog_changelist"))

    assert listing.status_code == 200
    assert [row.id for row in listing.context["cl"].result_list] == [log.id]
    assert "Execution started with 0 recipient(s)." in listing.content.decode()
    detail = client_.get(reverse("admin:campaigns_campaignlog_change", args=[log.id]))
    assert detail.status_code == 200 and detail.context["has_change_permission"] is False
    assert client_.get(reverse("admin:campaigns_campaignlog_add")).status_code == 403
