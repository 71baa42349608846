"""Writes check the role in the organization the object goes into (issue 12, finding 6).

Olga is an operator in A and a viewer in B: she may write in A, only read in B. Every
writable endpoint is tried with B as the target, by creating into it, changing and
deleting its objects and calling its actions; each is refused and nothing changes.
"""

import pytest

from accounts.models import Membership
from accounts.services import add_member
from campaigns.models import Campaign, Execution
from conftest import bearer_client
from contacts.models import Contact, Tag
from flows.models import Flow, FlowMessage, FlowTemplate, Subflow, SystemSetting
from instances.models import WhatsAppInstance
from tests.factories.campaigns import CampaignFactory, ExecutionFactory, make_flow
from tests.factories.contacts import ContactFactory, TagFactory
from tests.factories.flows import FlowMessageFactory, FlowTemplateFactory, SubflowFactory
from tests.factories.instances import WhatsAppInstanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga(django_user_model, org_a, org_b):
    user = django_user_model.objects.create_user("olga", "olga@example.com", "password")
    add_member(organization=org_a, user=user, role=Membership.Role.OPERATOR)
    add_member(organization=org_b, user=user, role=Membership.Role.VIEWER)
    return bearer_client(user)


@pytest.fixture
def b(org_b):
    """Org B's objects, one of each kind."""
    flow = make_flow(org_b)
    subflow = SubflowFactory(flow=flow)
    instance = WhatsAppInstanceFactory(organization=org_b)
    campaign = CampaignFactory(organization=org_b, instances=[instance], flow=flow, template=flow.template)
    return {
        "template": flow.template,
        "flow": flow,
        "subflow": subflow,
        "message": FlowMessageFactory(subflow=subflow, text="Oi"),
        "contact": ContactFactory(organization=org_b),
        "tag": TagFactory(organization=org_b, name="vip"),
        "instance": instance,
        "campaign": campaign,
        "execution": ExecutionFactory(organization=org_b, campaign=campaign, status="running"),
    }


def counts() -> dict:
    models = [FlowTemplate, Flow, Subflow, FlowMessage, Contact, Tag, WhatsAppInstance, Campaign, Execution]
    return {model.__name__: model.objects.count() for model in models} | {
        "settings": SystemSetting.objects.count(),
        "opted_out": Contact.objects.filter(opted_out_at__isnull=False).count(),
    }


def refused(response) -> bool:
    return response.status_code in (400, 403, 404) and response.status_code != 201


CREATES = [
    ("/api/v1/flows/", lambda b: {"template": b["template"].id, "name": "x"}),
    ("/api/v1/subflows/", lambda b: {"flow": b["flow"].id, "name": "x"}),
    ("/api/v1/subflows/", lambda b: {"flow": b["flow"].id, "parent": b["subflow"].id, "name": "x"}),
    ("/api/v1/flow-messages/", lambda b: {"subflow": b["subflow"].id, "text": "x"}),
    ("/api/v1/templates/", lambda b: {"organization": b["template"].organization_id, "name": "x"}),
    ("/api/v1/contacts/", lambda b: {"organization": b["contact"].organization_id, "phone": "+5511911112222"}),
    ("/api/v1/contacts/bulk", lambda b: {"organization": b["contact"].organization_id, "numbers": "+5511911112222"}),
    ("/api/v1/tags/", lambda b: {"organization": b["tag"].organization_id, "name": "new"}),
    (
        "/api/v1/instances/",
        lambda b: {"organization": b["instance"].organization_id, "name": "x", "provider": "sandbox"},
    ),
    (
        "/api/v1/flow-automations",
        lambda b: {
            "name": "x",
            "chatbot_id": b["template"].id,
            "flow_id": b["flow"].id,
            "whatsapp_number_id": b["instance"].id,
            "organization": b["campaign"].organization_id,
        },
    ),
    ("/api/v1/import/flows?organization={org}", lambda b: {"format": "whatsflow.flows/1", "name": "x", "flows": []}),
    ("/api/v1/bot/enable?organization={org}", lambda b: {}),
    ("/api/v1/bot/disable?organization={org}", lambda b: {}),
    ("/api/v1/bot/test-mode?organization={org}", lambda b: {"enabled": True}),
]


@pytest.mark.parametrize(("url", "body"), CREATES, ids=[f"{url} {i}" for i, (url, _) in enumerate(CREATES)])
def test_a_viewer_in_the_target_organization_cannot_create_there(olga, b, org_b, url, body):
    before = counts()

    response = olga.post(url.format(org=org_b.id), body(b), format="json")

    assert refused(response), (response.status_code, response.content)
    assert counts() == before


def test_a_viewer_cannot_change_a_setting_there(olga, b, org_b):
    response = olga.put(f"/api/v1/settings/DEBOUNCE_TIME?organization={org_b.id}", {"value": 10}, format="json")

    assert refused(response) and not SystemSetting.objects.exists()


# (url of B's object, body of a PATCH that would be valid for an operator)
DETAILS = [
    ("/api/v1/templates/{template.id}/", {"name": "changed"}),
    ("/api/v1/flows/{flow.id}/", {"name": "changed"}),
    ("/api/v1/subflows/{subflow.id}/", {"name": "changed"}),
    ("/api/v1/flow-messages/{message.id}/", {"text": "changed"}),
    ("/api/v1/contacts/{contact.id}/", {"name": "changed"}),
    ("/api/v1/tags/{tag.id}/", {"name": "changed"}),
    ("/api/v1/instances/{instance.id}/", {"name": "changed"}),
    ("/api/v1/flow-automations/{campaign.id}", {"name": "changed"}),
]


@pytest.mark.parametrize(("url", "body"), DETAILS, ids=[url.split("/")[3] for url, _ in DETAILS])
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_viewer_cannot_change_or_delete_there(olga, b, url, body, method):
    before = counts()
    url = url.format(**b)

    response = getattr(olga, method)(url, body, format="json")

    assert refused(response), (response.status_code, response.content)
    assert counts() == before
    assert "changed" not in olga.get(url).content.decode()


def test_an_object_of_a_writable_organization_cannot_be_moved_into_a_read_only_one(olga, org_a, b):
    flow = make_flow(org_a)

    response = olga.patch(f"/api/v1/flows/{flow.id}/", {"template": b["template"].id}, format="json")

    assert response.status_code == 400 and "template" in response.json()
    flow.refresh_from_db()
    assert flow.template.organization_id == org_a.id


ACTIONS = [
    "/api/v1/contacts/{contact.id}/opt-out",
    "/api/v1/contacts/{contact.id}/opt-in",
    "/api/v1/instances/{instance.id}/test-message",
    "/api/v1/flow-automations/{campaign.id}/start",
    "/api/v1/flow-automations/{campaign.id}/pause",
    "/api/v1/flow-automations/{campaign.id}/resume",
    "/api/v1/flow-automations/{campaign.id}/cancel",
    "/api/v1/executions/{execution.id}/pause",
    "/api/v1/executions/{execution.id}/resume",
    "/api/v1/executions/{execution.id}/cancel",
    "/api/v1/executions/{execution.id}/requeue",
]


@pytest.mark.parametrize("url", ACTIONS)
def test_a_viewer_cannot_call_an_action_there(olga, b, url):
    before = counts()
    status = b["execution"].status

    response = olga.post(url.format(**b), {"phone": "+5511911112222", "text": "x"}, format="json")

    assert response.status_code == 403, (response.status_code, response.content)
    assert counts() == before
    b["execution"].refresh_from_db()
    assert b["execution"].status == status


def test_she_still_writes_in_her_own_organization(olga, org_a):
    template = FlowTemplateFactory(organization=org_a)

    response = olga.post("/api/v1/flows/", {"template": template.id, "name": "mine"}, format="json")

    assert response.status_code == 201


# The admin's bulk actions, by model: each changes something when a writer runs it.
ADMIN_ACTIONS = [
    ("campaigns", "campaign", "campaign", ["activate", "start", "pause", "resume", "cancel"]),
    ("campaigns", "execution", "execution", ["pause", "resume", "cancel", "requeue"]),
    ("contacts", "contact", "contact", None),
    ("instances", "whatsappinstance", "instance", None),
]


@pytest.fixture
def olga_in_the_admin(olga, org_a, org_b):
    from django.contrib.auth.models import Permission
    from django.test import Client

    user = Membership.objects.get(organization=org_a).user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["campaigns", "contacts", "instances"])
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.mark.parametrize(("app", "model", "key", "names"), ADMIN_ACTIONS, ids=[row[1] for row in ADMIN_ACTIONS])
def test_a_viewer_cannot_run_the_admins_bulk_actions_there(olga_in_the_admin, b, app, model, key, names):
    from django.contrib import admin
    from django.urls import reverse

    model_admin = next(ma for m, ma in admin.site._registry.items() if m._meta.model_name == model)
    names = names or [name for name in model_admin.actions if name != "delete_selected"]
    target = b[key]
    before = (counts(), type(target).objects.filter(pk=target.pk).values().get())
    for name in names:
        response = olga_in_the_admin.post(
            reverse(f"admin:{app}_{model}_changelist"),
            {"action": name, "_selected_action": [target.pk], "confirmed": "1", "index": 0},
            follow=True,
        )
        assert response.status_code in (200, 403), name
    assert (counts(), type(target).objects.filter(pk=target.pk).values().get()) == before


def test_she_still_runs_the_admins_actions_in_her_own_organization(olga_in_the_admin, org_a):
    from django.urls import reverse

    campaign = CampaignFactory(organization=org_a, trigger_type="webhook", trigger_config={"event": "payment.overdue"})
    response = olga_in_the_admin.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "activate", "_selected_action": [campaign.pk], "index": 0},
        follow=True,
    )
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
