"""Schedules in the admin: the inline without JSON, the calendar, the actions, the campaign list's next run."""

import pytest
import time_machine
from django.urls import reverse

from campaigns.models import Execution, Schedule, ScheduleRun
from campaigns.schedules import services
from tests.factories.campaigns import CampaignFactory
from tests.factories.contacts import ContactFactory
from tests.support.campaign_admin import form_data

NOW = "2025-11-19T12:00:00Z"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def campaign(org_a):
    ContactFactory(organization=org_a)
    return CampaignFactory(organization=org_a)


def change_url(campaign) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign.id])


def with_schedule(data: dict, **fields) -> dict:
    base = {
        "schedule-TOTAL_FORMS": "1",
        "schedule-INITIAL_FORMS": "0",
        "schedule-0-recurrence_type": "weekly",
        "schedule-0-start_date": "2025-11-20",
        "schedule-0-start_time": "14:00",
        "schedule-0-interval": "1",
        "schedule-0-weekdays": ["MON", "WED", "FRI"],
        "schedule-0-execution_timezone": "America/Sao_Paulo",
        "schedule-0-holiday_country": "BR",
        "schedule-0-overlap_policy": "skip",
        "schedule-0-catchup_window": "01:00:00",
        "schedule-0-is_active": "on",
        "schedule-0-skip_holidays": "on",
    }
    return {**data, **base, **{f"schedule-0-{k}": v for k, v in fields.items()}}


def test_the_inline_creates_a_weekly_schedule_from_checkboxes(client_, campaign):
    page = client_.get(change_url(campaign))
    assert b'type="checkbox" name="schedule-__prefix__-weekdays" value="MON"' in page.content
    response = client_.post(change_url(campaign), with_schedule(form_data(page)))

    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    schedule = Schedule.objects.get(campaign=campaign)
    assert schedule.recurrence_config == {"type": "weekly", "interval": 1, "days": ["MON", "WED", "FRI"]}
    assert str(schedule.next_scheduled_at) == "2025-11-21 17:00:00+00:00"


def test_a_bad_cron_expression_shows_croniters_reason_on_the_cron_field(client_, campaign):
    page = client_.get(change_url(campaign))
    data = with_schedule(form_data(page), recurrence_type="cron", cron_expression="0 25 * * MON-FRI")
    response = client_.post(change_url(campaign), data)

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert "cron_expression" in errors and "25" in str(errors["cron_expression"])
    assert not Schedule.objects.exists()


def test_the_inline_describes_the_next_runs_of_a_cron_schedule(client_, campaign):
    services.create_schedule(
        campaign=campaign,
        data={
            "recurrence_type": "cron",
            "start_date": "2025-11-19",
            "recurrence_config": {"expression": "0 9 * * MON-FRI"},
        },
    )
    html = client_.get(change_url(campaign)).content.decode()
    assert "At 09:00, Monday through Friday" in html
    assert "Thu 20 Nov 2025 09:00, Fri 21 Nov 2025 09:00" in html


def test_the_calendar_marks_scheduled_skipped_rescheduled_and_modified_days(client_, campaign):
    schedule = services.create_schedule(
        campaign=campaign,
        data={"recurrence_type": "daily", "start_date": "2025-11-01", "start_time": "09:00", "skip_holidays": True},
    )
    services.add_exception(
        schedule=schedule,
        data={"exception_type": "reschedule", "start_date": "2025-11-24", "rescheduled_to": "2025-11-24T18:00:00Z"},
    )
    services.add_exception(
        schedule=schedule,
        data={
            "exception_type": "modify",
            "start_date": "2025-11-27",
            "end_date": "2025-11-27",
            "modified_config": {"rate_limit_per_hour": 3000},
        },
    )
    html = client_.get(reverse("admin:campaigns_schedule_calendar", args=[schedule.id])).content.decode()

    assert html.count('class="month"') == 3
    assert 'data-month="2026-01"' in html
    assert '<span class="mark skipped" title="holiday: National Day of Zumbi and Black Awareness">09:00</span>' in html
    assert '<span class="mark rescheduled" title="moved from 24/11 09:00">15:00</span>' in html
    assert '<span class="mark modified" title="rate_limit_per_hour=3000">09:00</span>' in html
    assert html.count('class="mark scheduled"') > 50


def test_pause_resume_run_now_and_backfill_actions(client_, campaign, clock):
    schedule = services.create_schedule(
        campaign=campaign, data={"recurrence_type": "daily", "start_date": "2025-11-10", "start_time": "09:00"}
    )
    changelist = reverse("admin:campaigns_schedule_changelist")

    def act(name, **extra):
        return client_.post(changelist, {"action": name, "_selected_action": [schedule.id], **extra})

    act("pause")
    assert Schedule.objects.get(id=schedule.id).is_paused
    act("resume")
    assert not Schedule.objects.get(id=schedule.id).is_paused
    act("trigger")
    assert Execution.objects.get(campaign=campaign).type == "scheduled"
    form = act("backfill")
    assert form.status_code == 200 and b'name="start"' in form.content
    Execution.objects.update(status="completed")
    act("backfill", confirmed="1", start="2025-11-15 00:00", end="2025-11-16 23:59")
    assert ScheduleRun.objects.filter(kind="backfill", status="buffered").count() == 2

    page = client_.get(reverse("admin:campaigns_schedule_change", args=[schedule.id])).content.decode()
    assert "Backfill" in page and "Run now" in page  # the runs inline


def test_the_campaign_list_shows_the_next_run(client_, campaign):
    services.create_schedule(
        campaign=campaign, data={"recurrence_type": "daily", "start_date": "2025-11-21", "start_time": "09:00"}
    )
    html = client_.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert "Next run" in html and "Nov. 21, 2025" in html


def test_an_operator_sees_only_their_organizations_schedules(operator, org_b):
    client, _user = operator
    other = CampaignFactory(organization=org_b)
    schedule = services.create_schedule(
        campaign=other, data={"recurrence_type": "daily", "start_date": "2025-11-21", "start_time": "09:00"}
    )
    assert client.get(reverse("admin:campaigns_schedule_calendar", args=[schedule.id])).status_code == 404
    assert client.get(reverse("admin:campaigns_schedule_change", args=[schedule.id])).status_code in (302, 404)
