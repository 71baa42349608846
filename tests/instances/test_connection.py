"""Numbers that work when added: the state is learned after commit, refreshed when stale, checked before a pause."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from campaigns.limits import daily_cap
from campaigns.models import Execution, Recipient
from campaigns.sending import dispatch
from campaigns.services import starting
from config.celery import app as celery_app
from instances.connection import refresh_stale
from instances.models import WhatsAppInstance
from tests.factories.campaigns import CampaignFactory
from tests.factories.contacts import ContactFactory

pytestmark = pytest.mark.django_db

STATE = r"^/instance/connectionState/"
WEBHOOK = r"^/webhook/set/"
SEND = r"^/message/sendText/"


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def evolution_body(fake_provider, **extra):
    return {
        "name": "Loja SP",
        "provider": "evolution",
        "base_url": fake_provider.url,
        "instance_name": "loja-sp",
        "api_key": "evo-key-0001",
        **extra,
    }


def never_checked(org, fake_provider, name="loja-rj") -> WhatsAppInstance:
    return WhatsAppInstance.objects.create(
        organization=org, name=name, provider="evolution", base_url=fake_provider.url, instance_name=name, api_key="k"
    )


@pytest.mark.usefixtures("eager_celery")
def test_creating_an_evolution_number_configures_its_webhook_and_learns_its_state_after_commit(
    alice_client, fake_provider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alice_client.post("/api/v1/instances", evolution_body(fake_provider), format="json")
        assert response.status_code == 201, response.json()
        # Nothing talked to the provider inside the request's transaction.
        assert not fake_provider.requests_to(STATE, method="GET") and not fake_provider.requests_to(WEBHOOK)
    assert len(callbacks) == 1
    callbacks[0]()

    instance = WhatsAppInstance.objects.get(id=response.json()["id"])
    webhook = fake_provider.requests_to(WEBHOOK)
    assert [r.path for r in webhook] == ["/webhook/set/loja-sp"]
    assert webhook[0].json["webhook"]["url"].endswith(f"/api/webhooks/evolution/{instance.webhook_secret}/")
    assert instance.connection_state == "open" and instance.connection_checked_at is not None
    assert alice_client.get(f"/api/v1/instances/{instance.id}").json()["connection_state"] == "open"


@pytest.mark.usefixtures("eager_celery")
def test_the_webhook_is_left_alone_when_told_so(alice_client, fake_provider, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            "/api/v1/instances", evolution_body(fake_provider, configure_webhook_on_save=False), format="json"
        )

    assert response.status_code == 201
    assert not fake_provider.requests_to(WEBHOOK)
    assert len(fake_provider.requests_to(STATE, method="GET")) == 1


@pytest.mark.usefixtures("eager_celery")
def test_a_failed_check_changes_no_state_and_says_why(alice_client, fake_provider, django_capture_on_commit_callbacks):
    fake_provider.respond("GET", STATE, status=500, json={"error": "boom"})

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post("/api/v1/instances", evolution_body(fake_provider), format="json")

    instance = WhatsAppInstance.objects.get(id=response.json()["id"])
    assert instance.connection_state == "close" and instance.connection_checked_at is None
    assert instance.connection_reason.startswith("Connection check failed")


@pytest.mark.usefixtures("eager_celery")
def test_a_gosac_number_is_open_once_configured(alice_client, fake_provider, django_capture_on_commit_callbacks):
    body = {
        "name": "GOSAC",
        "provider": "gosac",
        "base_url": fake_provider.url,
        "api_key": "token",
        "integration_key": "integration",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post("/api/v1/instances", body, format="json")

    assert WhatsAppInstance.objects.get(id=response.json()["id"]).connection_state == "open"


def test_the_beat_job_refreshes_only_numbers_nothing_reported_on_lately(org_a, fake_provider):
    unknown = never_checked(org_a, fake_provider, "nunca")
    stale = never_checked(org_a, fake_provider, "velho")
    fresh = never_checked(org_a, fake_provider, "novo")
    long_ago = timezone.now() - timedelta(seconds=settings.INSTANCES_CONNECTION_STALE_SECONDS + 60)
    WhatsAppInstance.objects.filter(id=stale.id).update(connection_checked_at=long_ago)
    WhatsAppInstance.objects.filter(id=fresh.id).update(connection_checked_at=timezone.now())

    assert refresh_stale() == 2

    asked = sorted(r.path for r in fake_provider.requests_to(STATE, method="GET"))
    assert asked == ["/instance/connectionState/nunca", "/instance/connectionState/velho"]
    unknown.refresh_from_db()
    assert unknown.connection_state == "open"
    assert "instances: refresh stale connection states" in settings.SYSTEM_PERIODIC_TASKS


def test_a_start_on_a_never_checked_number_checks_it_instead_of_pausing(org_a, fake_provider):
    ContactFactory(organization=org_a)
    number = never_checked(org_a, fake_provider)
    execution = starting.start_campaign(campaign=CampaignFactory(organization=org_a, instances=[number]))

    assert dispatch.run(execution.id) == "done"

    assert len(fake_provider.requests_to(STATE, method="GET")) == 1
    assert Recipient.objects.get(execution=execution).status == "sent"


def test_a_pause_for_no_number_says_which_and_why_and_resumes_when_one_opens(
    org_a, fake_provider, alice_client, django_capture_on_commit_callbacks
):
    ContactFactory(organization=org_a)
    number = never_checked(org_a, fake_provider)
    fake_provider.respond("GET", STATE, json={"instance": {"instanceName": "loja-rj", "state": "close"}}, times=1)
    execution = starting.start_campaign(campaign=CampaignFactory(organization=org_a, instances=[number]))

    assert dispatch.run(execution.id) == "stopped"

    execution.refresh_from_db()
    assert execution.status == "paused" and execution.pause_reason == "instance_disconnected"
    assert "loja-rj" in execution.pause_detail and "close" in execution.pause_detail
    shown = alice_client.get(f"/api/v1/executions/{execution.id}").json()
    assert shown["pause_detail"] == execution.pause_detail
    assert [(n["name"], n["connection_state"]) for n in shown["numbers"]] == [("loja-rj", "close")]

    with django_capture_on_commit_callbacks(execute=True):
        assert refresh_stale() == 0  # just checked: not stale yet
        WhatsAppInstance.objects.filter(id=number.id).update(connection_checked_at=None)
        assert refresh_stale() == 1  # the fake answers open now; the signal resumes the execution
    execution.refresh_from_db()
    assert execution.status == Execution.Status.RUNNING
    assert dispatch.run(execution.id) == "done"
    assert len(fake_provider.requests_to(SEND)) == 1


def test_the_ladder_counts_from_sending_since_and_a_number_may_be_warmed_up_or_capped(org_a, fake_provider):
    number = never_checked(org_a, fake_provider)
    now = timezone.now()

    assert daily_cap(number, now) == 40  # added today, nothing said: the ladder's first step
    number.sending_since = date(2020, 1, 1)
    assert daily_cap(number, now) == settings.CAMPAIGNS_INSTANCE_DAILY_CAP
    number.sending_since = (now - timedelta(days=5)).date()
    assert daily_cap(number, now) == 150
    number.warmed_up = True
    assert daily_cap(number, now) == settings.CAMPAIGNS_INSTANCE_DAILY_CAP
    number.daily_cap = 500
    assert daily_cap(number, now) == 500


def test_the_api_shows_todays_cap_and_what_is_left(alice_client, org_a, fake_provider):
    number = never_checked(org_a, fake_provider)

    shown = alice_client.get(f"/api/v1/instances/{number.id}").json()
    changed = alice_client.patch(
        f"/api/v1/instances/{number.id}", {"sending_since": "2020-01-01", "daily_cap": 1000}, format="json"
    ).json()

    assert (shown["daily_cap_today"], shown["daily_cap_left"]) == (40, 40)
    assert (changed["sending_since"], changed["daily_cap_today"], changed["daily_cap_left"]) == (
        "2020-01-01",
        1000,
        1000,
    )


def test_the_admin_shows_todays_cap(admin_client, org_a, fake_provider):
    number = never_checked(org_a, fake_provider)

    listing = admin_client.get("/admin/instances/whatsappinstance/").content.decode()
    page = admin_client.get(f"/admin/instances/whatsappinstance/{number.id}/change/").content.decode()

    assert "40 of 40 left" in listing and "40 of 40 left" in page
    assert 'name="sending_since"' in page and 'name="warmed_up"' in page and 'name="daily_cap"' in page


@pytest.mark.usefixtures("eager_celery")
def test_adding_a_number_in_the_admin_learns_its_state_after_commit(
    admin_client, org_a, fake_provider, django_capture_on_commit_callbacks
):
    form = {
        "organization": org_a.id,
        "name": "Loja admin",
        "provider": "evolution",
        "phone_number": "",
        "status": "active",
        "base_url": fake_provider.url,
        "instance_name": "loja-admin",
        "api_version": "v2",
        "api_key": "evo-key-admin",
        "integration_key": "",
        "configure_webhook_on_save": "on",
        "sending_since": "2021-06-01",
        "daily_cap": "",
        "sandbox_config": "{}",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/instances/whatsappinstance/add/", form)

    assert response.status_code == 302
    instance = WhatsAppInstance.objects.get(instance_name="loja-admin")
    assert instance.connection_state == "open" and instance.sending_since == date(2021, 6, 1)
    assert [r.path for r in fake_provider.requests_to(WEBHOOK)] == ["/webhook/set/loja-admin"]


def test_the_admin_execution_page_names_the_numbers_and_why(admin_client, org_a, fake_provider):
    ContactFactory(organization=org_a)
    number = never_checked(org_a, fake_provider)
    fake_provider.respond("GET", STATE, status=500, json={"error": "down"})
    execution = starting.start_campaign(campaign=CampaignFactory(organization=org_a, instances=[number]))
    assert dispatch.run(execution.id) == "stopped"

    page = admin_client.get(f"/admin/campaigns/execution/{execution.id}/change/").content.decode()

    assert "loja-rj: state never learned Connection check failed" in page
