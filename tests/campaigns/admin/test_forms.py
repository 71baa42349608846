"""The campaign form's trigger: each type saved through the admin makes the schedule the API makes,
the service's errors show on the trigger field naming their path, the cron preview endpoint."""

import json
import re

import pytest
import time_machine
from django.urls import reverse

from campaigns.models import Campaign, Schedule
from campaigns.schedules import services as schedule_services
from tests.factories.campaigns import CampaignFactory, make_flow
from tests.factories.contacts import ContactFactory
from tests.factories.instances import WhatsAppInstanceFactory
from tests.support.campaign_admin import ADD, change_url, form_data, new_campaign

NOW = "2025-11-19T12:00:00Z"
CRON_PREVIEW = reverse("admin:campaigns_cron_preview")
SCHEDULE_FIELDS = "recurrence_type start_date start_time end_date recurrence_config execution_timezone".split()


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def setup(org_a):
    """As the campaign admin tests have it: a flow, two numbers, three contacts."""
    numbers = [WhatsAppInstanceFactory(organization=org_a) for _ in range(2)]
    return make_flow(org_a), *numbers, [ContactFactory(organization=org_a) for _ in range(3)]


def trigger(trigger_type: str, config: dict) -> dict:
    return {"trigger_type": trigger_type, "trigger_config": json.dumps(config)}


def schedule_of(campaign_id: int) -> dict:
    schedule = Schedule.objects.get(campaign_id=campaign_id)
    return {name: getattr(schedule, name) for name in [*SCHEDULE_FIELDS, "next_scheduled_at", "is_active"]}


def api_body(setup) -> dict:
    flow, first, second, contacts = setup
    return {
        "name": "Pela API",
        "chatbot_id": flow.template_id,
        "flow_id": flow.id,
        "whatsapp_number_id": first.id,
        "audience_type": "custom",
        "audience_config": {"contact_ids": [contacts[0].id]},
    }


@pytest.mark.parametrize(
    ("trigger_type", "admin_config", "api_config", "next_at"),
    [
        # What the editor writes (a local time in the campaign's zone) and what an API client sends.
        ("scheduled", {"scheduled_at": "2025-11-21T10:30:00"}, {"scheduled_at": "2025-11-21T10:30:00-03:00"}, "13:30"),
        ("cron", {"expression": "0 9 * * MON-FRI"}, {"expression": "0 9 * * MON-FRI"}, "12:00"),
    ],
)
def test_a_trigger_saved_in_the_admin_makes_the_schedule_the_api_makes(
    client_, alice_client, setup, org_a, trigger_type, admin_config, api_config, next_at
):
    response = client_.post(ADD, new_campaign(org_a, setup, **trigger(trigger_type, admin_config)))
    assert response.status_code == 302, response.context["adminform"].form.errors
    by_api = alice_client.post(
        "/api/v1/flow-automations",
        {**api_body(setup), "trigger_type": trigger_type, "trigger_config": api_config},
        format="json",
    )
    assert by_api.status_code == 201, by_api.json()

    admin_campaign = Campaign.objects.get(name="Disparo Black Friday")
    assert admin_campaign.trigger_config == admin_config
    assert schedule_of(admin_campaign.id) == schedule_of(by_api.json()["id"])
    assert schedule_of(admin_campaign.id)["next_scheduled_at"].strftime("%H:%M") == next_at


def test_changing_the_trigger_in_the_admin_updates_the_schedule(client_, setup, org_a):
    flow, first, second, contacts = setup
    campaign = CampaignFactory(organization=org_a, flow=flow, instances=[first])
    data = form_data(client_.get(change_url(campaign)))

    response = client_.post(change_url(campaign), {**data, **trigger("cron", {"expression": "0 9 * * MON-FRI"})})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert str(Schedule.objects.get(campaign=campaign).next_scheduled_at) == "2025-11-20 12:00:00+00:00"

    page = client_.get(change_url(campaign))
    assert "Monday through Friday" in page.content.decode()  # the inline's next runs, read as words
    response = client_.post(
        change_url(campaign), {**form_data(page), **trigger("cron", {"expression": "30 14 * * SAT"})}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Schedule.objects.filter(campaign=campaign).count() == 1
    assert str(Schedule.objects.get(campaign=campaign).next_scheduled_at) == "2025-11-22 17:30:00+00:00"

    data = form_data(client_.get(change_url(campaign)))
    response = client_.post(
        change_url(campaign), {**data, **trigger("scheduled", {"scheduled_at": "2025-11-25T08:00"})}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    schedule = Schedule.objects.get(campaign=campaign)
    assert (schedule.recurrence_type, str(schedule.next_scheduled_at)) == ("once", "2025-11-25 11:00:00+00:00")


def test_a_webhook_trigger_keeps_the_keys_the_editor_does_not_know(client_, setup, org_a):
    config = {"event": "payment.overdue", "note": "set by the billing team"}
    response = client_.post(ADD, new_campaign(org_a, setup, **trigger("webhook", config)))

    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign = Campaign.objects.get()
    assert (campaign.trigger_type, campaign.trigger_config) == ("webhook", config)
    assert not Schedule.objects.exists()


def test_a_campaign_whose_start_has_passed_can_still_be_renamed(client_, setup, org_a, clock):
    client_.post(ADD, new_campaign(org_a, setup, **trigger("scheduled", {"scheduled_at": "2025-11-21T10:30:00"})))
    campaign = Campaign.objects.get()
    before = schedule_of(campaign.id)
    clock.move_to("2025-11-22T12:00:00Z")
    data = form_data(client_.get(change_url(campaign)))

    response = client_.post(change_url(campaign), {**data, "name": "Depois do envio"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign.refresh_from_db()
    assert campaign.name == "Depois do envio"
    assert schedule_of(campaign.id) == before


@pytest.mark.parametrize(
    ("trigger_type", "config", "named"),
    [
        ("scheduled", {}, "trigger_config.scheduled_at"),
        ("scheduled", {"scheduled_at": "amanhã"}, "trigger_config.scheduled_at"),
        ("scheduled", {"scheduled_at": "2025-11-01T10:00"}, "trigger_config.scheduled_at: Must be in the future."),
        ("cron", {"expression": "every day"}, "trigger_config.expression"),
        ("cron", {"expression": "0 25 * * *"}, "trigger_config.expression"),
        ("webhook", {"event": "payment overdue!"}, 'A webhook trigger needs {"event": "<name>"}'),
    ],
)
def test_a_bad_trigger_is_an_error_on_the_trigger_field_naming_the_path(
    client_, setup, org_a, trigger_type, config, named
):
    response = client_.post(ADD, new_campaign(org_a, setup, **trigger(trigger_type, config)))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["trigger_config"], errors
    assert named in " ".join(errors["trigger_config"])
    rows = [set(c.split()) for c in re.findall(r'class="([^"]*)"', response.content.decode())]
    assert any({"field-trigger_config", "errors"} <= classes for classes in rows)
    assert not Campaign.objects.exists() and not Schedule.objects.exists()


def test_a_start_on_a_day_the_schedule_skips_is_an_error_not_a_crash(client_, setup, org_a):
    flow, first, second, contacts = setup
    campaign = CampaignFactory(organization=org_a, flow=flow, instances=[first])
    schedule_services.create_schedule(
        campaign=campaign,
        data={"recurrence_type": "daily", "start_date": "2025-11-20", "start_time": "09:00", "skip_holidays": True},
    )
    data = form_data(client_.get(change_url(campaign)))

    # 20 November is a national holiday (Consciência Negra): the once schedule would never run.
    response = client_.post(
        change_url(campaign), {**data, **trigger("scheduled", {"scheduled_at": "2025-11-20T10:00"})}
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["trigger_config"], errors
    assert errors["trigger_config"][0].startswith("start_date: Every date is blocked")
    campaign.refresh_from_db()
    assert campaign.trigger_type == "manual"
    assert Schedule.objects.get(campaign=campaign).recurrence_type == "daily"


def test_the_form_draws_the_trigger_editor(client_, setup, org_a):
    flow, first, second, contacts = setup
    campaign = CampaignFactory(organization=org_a, flow=flow, instances=[first])

    page = client_.get(change_url(campaign)).content.decode()

    assert 'data-wf-editor="trigger"' in page
    options = json.loads(
        re.search(r'data-wf-editor="trigger" data-options="([^"]*)"', page).group(1).replace("&quot;", '"')
    )
    assert options == {"campaign": campaign.id, "cron_url": CRON_PREVIEW, "events_url": "/api/v1/events"}


def test_the_trigger_editor_speaks_portuguese(client_, setup, org_a):
    flow, first, second, contacts = setup
    campaign = CampaignFactory(organization=org_a, flow=flow, instances=[first])
    client_.defaults["HTTP_ACCEPT_LANGUAGE"] = "pt-br"

    page = client_.get(change_url(campaign)).content.decode()

    assert "Iniciada por um operador ou pela API: nada a preencher." in page
    assert "horário local em" in page


# The cron preview ----------------------------------------------------------------------


def test_the_cron_preview_reads_the_expression_and_lists_the_next_runs(client_):
    response = client_.get(CRON_PREVIEW, {"expression": "0  9 * * MON-FRI", "time_zone": "America/Sao_Paulo"})

    assert response.status_code == 200
    body = response.json()
    assert body["expression"] == "0 9 * * MON-FRI"
    assert body["description"] == "At 09:00, Monday through Friday"
    assert body["next_runs"].startswith("Thu 20 Nov 2025 09:00, Fri 21 Nov 2025 09:00, Mon 24 Nov 2025 09:00")


def test_the_cron_preview_is_in_portuguese_for_a_portuguese_page(client_):
    client_.defaults["HTTP_ACCEPT_LANGUAGE"] = "pt-br"
    response = client_.get(CRON_PREVIEW, {"expression": "0 9 * * MON-FRI", "time_zone": "America/Sao_Paulo"})

    assert response.json()["description"] == "Às 09:00, de segunda-feira a sexta-feira"


def test_the_cron_preview_follows_the_campaigns_own_schedule(client_, operator, org_a, org_b):
    """The campaign's schedule skips holidays: so does the preview (for its own organization only)."""
    previews = {}
    for organization in (org_a, org_b):
        campaign = CampaignFactory(organization=organization)
        schedule_services.create_schedule(
            campaign=campaign,
            data={"recurrence_type": "daily", "start_date": "2025-11-19", "start_time": "09:00", "skip_holidays": True},
        )
        client, user = operator
        query = {"expression": "0 9 * * *", "time_zone": "America/Sao_Paulo", "campaign": campaign.id}
        previews[organization] = client.get(CRON_PREVIEW, query).json()["next_runs"]

    assert previews[org_a].startswith("Fri 21 Nov 2025 09:00")  # Thursday the 20th is a holiday
    assert previews[org_b].startswith("Thu 20 Nov 2025 09:00")  # not the operator's: a bare cron schedule


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"expression": "every day"}, "expression"),
        ({"expression": "0 9 * * MON-FRI", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({}, "expression"),
    ],
)
def test_a_bad_cron_preview_is_a_400_naming_the_field(client_, query, field):
    response = client_.get(CRON_PREVIEW, query)

    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize(
    ("trigger_type", "config"),
    [("scheduled", {"scheduled_at": "2025-11-25T09:00"}), ("cron", {"expression": "0 9 * * *"}), ("manual", {})],
)
def test_an_unknown_time_zone_is_an_error_on_its_field(client_, setup, org_a, trigger_type, config):
    data = new_campaign(org_a, setup, **trigger(trigger_type, config), time_zone="Mars/Olympus")

    response = client_.post(ADD, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["time_zone"], errors
    assert not Campaign.objects.exists() and not Schedule.objects.exists()
