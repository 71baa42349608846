"""The back-office's own pages: `/`, the favicon, the dashboard, the live campaign and execution pages,
true counts on large lists, and a bounded number of queries whatever the number of rows."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from accounts.admin import approximate
from accounts.models import Membership
from accounts.services import add_member
from campaigns.models import CampaignLog, Execution, Recipient
from contacts.models import Contact
from instances.models import WhatsAppInstance
from tests.factories.campaigns import CampaignFactory, make_flow
from tests.factories.contacts import ContactFactory
from tests.support.campaign_admin import execution_with


def english(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def root(db, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "password")
    client = english(Client())
    client.force_login(user)
    return client


@pytest.fixture
def operator(db, django_user_model, org_a):
    user = django_user_model.objects.create_user("olga", "olga@example.com", "password", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["campaigns", "instances"]))
    add_member(organization=org_a, user=user, role=Membership.Role.OPERATOR)
    client = english(Client())
    client.force_login(user)
    return client


# `/` and the favicon ---------------------------------------------------------------------


def test_the_root_leads_to_the_admin_and_there_is_a_favicon(client):
    response = client.get("/")
    assert (response.status_code, response.url) == (302, reverse("admin:index"))
    for url in ("/favicon.ico", "/favicon.svg"):
        icon = client.get(url)
        assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
        assert icon.content.startswith(b"<svg")


def test_a_login_on_the_login_page_itself_lands_on_the_dashboard(client, django_user_model):
    """Unfold's login form posts no `next`: without LOGIN_REDIRECT_URL it led to /accounts/profile/ (404)."""
    django_user_model.objects.create_superuser("root", "root@example.com", "s3cret-pass")
    client.get(reverse("admin:login"))
    response = client.post(reverse("admin:login"), {"username": "root", "password": "s3cret-pass"})
    assert (response.status_code, response.url) == (302, reverse("admin:index"))
    assert client.get(response.url).status_code == 200


def test_pages_link_the_favicon_and_load_nothing_from_another_host(root):
    html = root.get(reverse("admin:index")).content.decode()
    assert 'href="/favicon.svg"' in html
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert external == []


# The dashboard ---------------------------------------------------------------------------


def test_the_dashboard_shows_the_operators_organization_only(operator, org_a, org_b):
    mine = CampaignFactory(organization=org_a, name="Black Friday", status="active")
    execution = execution_with(org_a, mine, ["sent", "delivered", "pending", "failed"])
    theirs = CampaignFactory(organization=org_b, name="Concorrente", status="active")
    execution_with(org_b, theirs, ["pending"])
    WhatsAppInstance.objects.filter(organization=org_a).update(sent_today=7, delivered_today=5, read_today=3)
    WhatsAppInstance.objects.filter(organization=org_b).update(sent_today=1000)
    ContactFactory(organization=org_a, opted_out_at=timezone.now())
    CampaignLog.objects.create(
        organization=org_a, campaign=mine, type="message_failed", severity="error", message="Número inválido"
    )
    CampaignLog.objects.create(organization=org_a, campaign=mine, type="execution_started", message="Início")

    page = operator.get(reverse("admin:index"))

    assert page.status_code == 200
    data = page.context["dashboard"]
    assert [(e["id"], e["done"], e["total"], e["percent"]) for e in data["executions"]] == [(execution.id, 3, 4, 75.0)]
    assert data["today"] == {"sent": 7, "delivered": 5, "read": 3, "replied": 0, "failed": 0, "opted_out": 1}
    assert [i["name"] for i in data["instances"]] == [mine.ordered_instances()[0].name]
    assert [log["message"] for log in data["logs"]] == ["Número inválido"]
    assert data["next_runs"] == []
    html = page.content.decode()
    assert 'id="wf-dashboard-data"' in html and "Running executions" in html

    polled = operator.get(reverse("admin:campaigns_dashboard_live")).json()
    assert polled["today"]["sent"] == 7
    assert [e["campaign"] for e in polled["executions"]] == ["Black Friday"]


def test_the_dashboard_and_the_campaign_page_show_the_next_scheduled_runs(operator, org_a, org_b):
    from campaigns.schedules import services

    weekly = CampaignFactory(organization=org_a, name="Semanal")
    daily = CampaignFactory(organization=org_a, name="Diária")
    paused = CampaignFactory(organization=org_a, name="Pausada")
    theirs = CampaignFactory(organization=org_b, name="Concorrente")
    for campaign, kind in ((weekly, "weekly"), (daily, "daily"), (paused, "daily"), (theirs, "daily")):
        body = {"recurrence_type": kind, "start_date": "2027-01-04", "start_time": "09:00:00"}  # a Monday
        if kind == "weekly":
            body["recurrence_config"] = {"days": ["FRI"]}
        schedule = services.create_schedule(campaign=campaign, data=body)
    services.pause_schedule(schedule=paused.schedule, note="férias")

    data = operator.get(reverse("admin:campaigns_dashboard_live")).json()
    page = operator.get(reverse("admin:campaigns_campaign_change", args=[weekly.id]))

    assert [(r["campaign"], r["at"]) for r in data["next_runs"]] == [
        ("Diária", "2027-01-04T12:00:00Z"),
        ("Semanal", "2027-01-08T12:00:00Z"),
    ]
    assert str(page.context["next_run"]) == "2027-01-08 12:00:00+00:00"
    assert schedule.campaign == theirs


def test_the_dashboard_needs_a_login(client):
    response = client.get(reverse("admin:campaigns_dashboard_live"))
    assert response.status_code == 302 and "/login/" in response.url


def test_the_dashboard_reads_a_bounded_number_of_rows(root, org_a, django_assert_max_num_queries):
    flow = make_flow(org_a)
    for i in range(100):
        campaign = CampaignFactory(organization=org_a, flow=flow, status="active")
        execution_with(org_a, campaign, ["sent", "pending"])
        CampaignLog.objects.create(
            organization=org_a, campaign=campaign, type="message_failed", severity="warning", message=f"aviso {i}"
        )

    with django_assert_max_num_queries(20):
        page = root.get(reverse("admin:index"))
    assert len(page.context["dashboard"]["executions"]) == 20
    assert len(page.context["dashboard"]["instances"]) == 50
    with django_assert_max_num_queries(12):
        assert root.get(reverse("admin:campaigns_dashboard_live")).status_code == 200


# The campaign and execution pages --------------------------------------------------------


def test_the_campaign_page_shows_the_funnel_and_its_action_buttons(root, org_a):
    campaign = CampaignFactory(organization=org_a, name="Black Friday", status="active")
    execution = execution_with(org_a, campaign, ["sent", "delivered", "read", "replied", "failed", "pending"])
    Recipient.objects.filter(execution=execution).exclude(status="pending").update(sent_at=timezone.now())
    test = execution_with(org_a, campaign, ["read"], status=Execution.Status.COMPLETED)
    Execution.objects.filter(id=test.id).update(type=Execution.Type.TEST)

    page = root.get(reverse("admin:campaigns_campaign_change", args=[campaign.id]))

    assert page.status_code == 200
    # The page counts nothing itself: its script fetches the JSON at once, then polls it.
    assert page.context["live_url"] == reverse("admin:campaigns_campaign_live", args=[campaign.id])
    data = root.get(page.context["live_url"]).json()
    # The test execution is listed but not counted in the funnel.
    assert data["funnel"]["steps"] == {
        "total": 6,
        "sent": 4,
        "delivered": 3,
        "read": 2,
        "replied": 1,
        "completed": 0,
    }
    assert data["funnel"]["beside"]["failed"] == 1
    assert (data["funnel"]["delivery_rate"], data["funnel"]["read_rate"]) == (75.0, 50.0)
    assert sum(bar["sent"] for bar in data["per_hour"]) == 5 and len(data["per_hour"]) == 24
    assert [e["id"] for e in data["executions"]] == [test.id, execution.id]
    assert [name for name, *_ in page.context["campaign_actions"]] == ["pause", "cancel", "send_test"]
    html = page.content.decode()
    assert 'name="action" value="pause"' in html and 'name="action" value="cancel"' in html


def test_the_campaign_page_of_another_organization_is_not_found(operator, org_b):
    campaign = CampaignFactory(organization=org_b)
    assert operator.get(reverse("admin:campaigns_campaign_live", args=[campaign.id])).status_code == 404
    execution = execution_with(org_b, campaign, ["sent"])
    assert operator.get(reverse("admin:campaigns_execution_live", args=[execution.id])).status_code == 404


def test_the_execution_page_is_live_links_each_count_and_has_no_save_button(root, org_a):
    campaign = CampaignFactory(organization=org_a, status="active")
    execution = execution_with(org_a, campaign, ["sent", "failed", "failed", "pending"])
    Recipient.objects.filter(execution=execution, status="failed").update(error="not_on_whatsapp: número sem WhatsApp")
    heartbeat = timezone.now().replace(microsecond=123456)
    Execution.objects.filter(id=execution.id).update(stats={"sent": 1, "failed": 2}, heartbeat_at=heartbeat)

    page = root.get(reverse("admin:campaigns_execution_change", args=[execution.id]))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    recipients = reverse("admin:campaigns_recipient_changelist")
    assert f'href="{recipients}?execution__id__exact={execution.id}&amp;status__exact=failed"' in html
    assert page.context["live_url"] == reverse("admin:campaigns_execution_live", args=[execution.id])
    assert "2 recipient(s): not_on_whatsapp: número sem WhatsApp" in html
    assert "Sent: 1 · Failed: 2" in html  # final counts, not JSON
    with translation.override("en"):  # the dispatcher's heartbeat in local time, as the other dates
        assert formats.localize(timezone.localtime(heartbeat)) in html and str(heartbeat) not in html
    for label in ("Campaign:", "Triggered by:", "Heartbeat at:"):
        assert label not in html
    assert [name for name, *_ in page.context["execution_actions"]] == ["pause", "cancel", "requeue"]
    polled = root.get(reverse("admin:campaigns_execution_live", args=[execution.id])).json()
    assert (polled["done"], polled["total"], polled["percent"]) == (3, 4, 75.0)
    assert polled["counts"]["failed"] == 2 and polled["funnel"]["steps"]["sent"] == 1

    listing = root.get(recipients, {"execution__id__exact": execution.id, "status__exact": "failed"})
    assert sorted(r.status for r in listing.context["cl"].result_list) == ["failed", "failed"]


# True counts -------------------------------------------------------------------------------


def test_a_large_list_shows_a_marked_estimate_and_a_small_one_its_exact_count(root, org_a, settings):
    campaign = CampaignFactory(organization=org_a)
    execution_with(org_a, campaign, ["sent"] * 30)
    url = reverse("admin:campaigns_recipient_changelist")

    settings.ADMIN_EXACT_COUNT_LIMIT = 100
    exact = root.get(url)
    assert exact.context["cl"].paginator.is_estimate is False
    assert "30 recipients" in re.sub(r"\s+", " ", exact.content.decode())
    assert "results (" not in exact.content.decode(), "an unfiltered list does not call itself a result"
    filtered = re.sub(r"\s+", " ", root.get(url, {"status__exact": "sent"}).content.decode())
    assert "30 results (" in filtered

    settings.ADMIN_EXACT_COUNT_LIMIT = 10
    estimated = root.get(url)
    paginator = estimated.context["cl"].paginator
    assert paginator.is_estimate is True
    assert paginator.count > 10  # the planner's figure, never below the limit it passed
    html = re.sub(r"\s+", " ", estimated.content.decode())
    assert "(estimate)" in html and "1000000000" not in html


def test_large_counts_read_as_people_say_them():
    assert str(approximate(1_234_567)) == "≈ 1.2 M"
    assert str(approximate(35_400)) == "≈ 35 k"


@pytest.mark.parametrize(
    "changelist",
    [
        "campaigns_campaign",
        "campaigns_execution",
        "campaigns_recipient",
        "campaigns_campaignlog",
        "contacts_contact",
        "instances_whatsappinstance",
    ],
)
def test_changelists_of_100_rows_use_a_bounded_number_of_queries(
    root, org_a, changelist, django_assert_max_num_queries
):
    flow = make_flow(org_a)
    for _ in range(25):
        campaign = CampaignFactory(organization=org_a, flow=flow, status="active")
        execution = execution_with(org_a, campaign, ["sent", "delivered", "pending", "failed"])
        CampaignLog.objects.create(
            organization=org_a, campaign=campaign, execution=execution, type="message_failed", message="x"
        )
    with django_assert_max_num_queries(15):
        response = root.get(reverse(f"admin:{changelist}_changelist"))
    assert response.status_code == 200 and len(response.context["cl"].result_list) >= 25


def test_every_admin_page_is_in_the_theme_and_renders(root):
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        assert any(base.__module__.startswith("unfold") for base in type(model_admin).__mro__), type(model_admin)
        opts = model._meta
        changelist = root.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert changelist.status_code == 200, opts.label
        add = root.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        assert add.status_code in (200, 403), opts.label


# Dispatch to a list, later ----------------------------------------------------------------


def test_dispatch_to_a_list_at_a_date_and_time_is_a_once_schedule(operator, org_a):
    from campaigns.models import Campaign, Schedule

    flow = make_flow(org_a)
    instance = WhatsAppInstance.objects.create(
        organization=org_a, name="Loja", provider=WhatsAppInstance.Provider.SANDBOX, connection_state="open"
    )
    url = reverse("admin:campaigns_dispatch_list")
    body = {"flow": flow.id, "numbers": "11 98888-0001\n11 98888-0002", "instances": [instance.id], "start": "1"}

    past = operator.post(url, {**body, "start_at": "2020-01-01T09:00"})
    assert past.status_code == 200 and "Choose a time in the future" in past.content.decode()
    assert not Campaign.objects.exists()

    response = operator.post(url, {**body, "start_at": "2027-03-02T09:30"})

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:campaigns_campaign_change", args=[campaign.id])
    assert not campaign.executions.exists()  # nothing starts now
    schedule = Schedule.objects.get(campaign=campaign)
    assert schedule.recurrence_type == "once"
    # 09:30 in the organization's zone (São Paulo, UTC−3) is 12:30Z.
    assert schedule.next_scheduled_at.isoformat() == "2027-03-02T12:30:00+00:00"
    assert sorted(campaign.audience_config["contact_ids"]) == sorted(
        Contact.objects.filter(organization=org_a).values_list("id", flat=True)
    )


def test_a_draft_started_by_inbound_events_offers_to_go_live(root, org_a):
    campaign = CampaignFactory(organization=org_a, trigger_type="webhook", trigger_config={"event": "payment.overdue"})
    manual = CampaignFactory(organization=org_a)

    page = root.get(reverse("admin:campaigns_campaign_change", args=[campaign.id]))
    assert [name for name, *_ in page.context["campaign_actions"]] == ["activate", "start", "send_test"]
    assert 'name="action" value="activate"' in page.content.decode()
    manual_page = root.get(reverse("admin:campaigns_campaign_change", args=[manual.id]))
    assert "activate" not in [name for name, *_ in manual_page.context["campaign_actions"]]

    answer = root.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "activate", "_selected_action": [campaign.id, manual.id], "index": 0},
        follow=True,
    )
    campaign.refresh_from_db()
    manual.refresh_from_db()
    assert (campaign.status, manual.status) == ("active", "draft")
    shown = [str(message) for message in answer.context["messages"]]
    assert any("manual campaign goes live when it is started" in text for text in shown), shown
    assert "1 campaign(s) now live on their trigger." in shown
