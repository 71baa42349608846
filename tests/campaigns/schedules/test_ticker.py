"""The ticker in-process, time moved with time_machine: exactly once, catch-up, overlap, modify, a month."""

from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from campaigns.models import CampaignLog, Execution, Schedule, ScheduleRun
from campaigns.schedules import occurrences, services, ticker
from tests.factories.campaigns import CampaignFactory
from tests.factories.contacts import ContactFactory
from tests.support.schedules import utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(org_a):
    ContactFactory(organization=org_a)
    return CampaignFactory(organization=org_a, max_concurrent_executions=5)


def make(campaign, **data) -> Schedule:
    body = {"recurrence_type": "daily", "start_date": "2025-11-01", "start_time": "09:00:00"} | data
    return services.create_schedule(campaign=campaign, data=body)


def started(schedule) -> list[str]:
    runs = ScheduleRun.objects.filter(schedule=schedule, status="started").order_by("scheduled_for")
    return [r.scheduled_for.isoformat() for r in runs]


def test_a_due_occurrence_starts_once_whatever_runs_twice(campaign):
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False) as clock:
        schedule = make(campaign)
        clock.move_to("2025-11-03T12:00:30Z")
        assert ticker.tick()["started"] == 1
        assert ticker.tick()["started"] == 0
        # A ticker that read a stale next_scheduled_at (or a retried task) finds the run row taken.
        Schedule.objects.filter(id=schedule.id).update(next_scheduled_at=utc("2025-11-03T12:00:00Z"))
        assert ticker.tick()["started"] == 0

    execution = Execution.objects.get(campaign=campaign)
    assert execution.type == "scheduled" and execution.trigger_event == "2025-11-03T12:00:00+00:00"
    assert execution.total_recipients == 1
    schedule.refresh_from_db()
    assert schedule.execution_count == 1 and schedule.next_scheduled_at == utc("2025-11-04T12:00:00Z")
    assert str(schedule.last_executed_at) == "2025-11-03 12:00:30+00:00"
    assert ScheduleRun.objects.get(schedule=schedule).execution == execution


def test_after_downtime_the_latest_inside_the_catchup_window_starts_and_the_rest_are_missed(campaign):
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False) as clock:
        schedule = make(campaign, catchup_window=3600)
        clock.move_to("2025-11-06T12:40:00Z")  # down since the 3rd; the 6th's 09:00 is 40 minutes late
        counts = ticker.tick()

    assert (counts["missed"], counts["started"]) == (3, 1)
    runs = list(
        ScheduleRun.objects.filter(schedule=schedule).order_by("scheduled_for").values_list("scheduled_for", "status")
    )
    assert [(at.isoformat()[:10], status) for at, status in runs] == [
        ("2025-11-03", "missed"),
        ("2025-11-04", "missed"),
        ("2025-11-05", "missed"),
        ("2025-11-06", "started"),
    ]
    entry = CampaignLog.objects.get(campaign=campaign, type="occurrence_missed")
    assert "3 scheduled occurrence(s) missed" in entry.message
    assert Execution.objects.filter(campaign=campaign).count() == 1


def test_one_past_its_catchup_window_or_its_execution_window_is_missed(campaign):
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False) as clock:
        late = make(campaign, catchup_window="00:30:00")
        clock.move_to("2025-11-03T12:45:00Z")
        assert ticker.tick()["missed"] == 1
    assert ScheduleRun.objects.get(schedule=late).status == "missed"
    late.refresh_from_db()
    assert late.next_scheduled_at == utc("2025-11-04T12:00:00Z")

    other = CampaignFactory(organization=campaign.organization)
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False) as clock:
        windowed = make(other, execution_window_start="09:00", execution_window_end="09:20")
        clock.move_to("2025-11-03T12:25:00Z")  # inside the hour of catch-up, but the window closed at 09:20
        assert ticker.tick()["missed"] == 1
    assert ScheduleRun.objects.get(schedule=windowed).status == "missed"


def test_overlap_skip_records_the_occurrence_as_skipped(campaign):
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False) as clock:
        schedule = make(campaign)
        running = services_start(campaign)
        clock.move_to("2025-11-03T12:01:00Z")
        assert ticker.tick()["skipped"] == 1
    run = ScheduleRun.objects.get(schedule=schedule)
    assert (run.status, run.reason, run.execution) == ("skipped", "overlap", None)
    assert list(Execution.objects.filter(campaign=campaign)) == [running]
    assert CampaignLog.objects.filter(type="occurrence_skipped").exists()


def test_overlap_buffer_one_waits_for_the_running_execution_one_at_most(campaign):
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False) as clock:
        schedule = make(campaign, overlap_policy="buffer_one", catchup_window=86400)
        running = services_start(campaign)
        clock.move_to("2025-11-03T12:01:00Z")
        assert ticker.tick()["buffered"] == 1
        clock.move_to("2025-11-04T12:01:00Z")
        assert ticker.tick()["skipped"] == 1  # one waits at most
        running.transition(Execution.Status.CANCELLED)
        clock.move_to("2025-11-04T12:02:00Z")
        assert ticker.tick()["started"] == 1
    statuses = dict(ScheduleRun.objects.filter(schedule=schedule).values_list("scheduled_for__day", "status"))
    assert statuses == {3: "started", 4: "skipped"}


def test_allow_runs_alongside_up_to_max_concurrent_executions(campaign):
    campaign.max_concurrent_executions = 2
    campaign.save(update_fields=["max_concurrent_executions"])
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False) as clock:
        schedule = make(
            campaign, overlap_policy="allow", recurrence_type="cron", recurrence_config={"expression": "0 9,10 * * *"}
        )
        services_start(campaign)
        clock.move_to("2025-11-03T12:01:00Z")
        assert ticker.tick()["started"] == 1
        clock.move_to("2025-11-03T13:01:00Z")
        assert ticker.tick()["skipped"] == 1
    assert [r.reason for r in ScheduleRun.objects.filter(schedule=schedule, status="skipped")] == ["overlap"]


def test_a_modify_exception_is_the_settings_the_execution_runs_with(campaign):
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False) as clock:
        schedule = make(campaign)
        services.add_exception(
            schedule=schedule,
            data={
                "exception_type": "modify",
                "start_date": "2025-11-03",
                "end_date": "2025-11-03",
                "modified_config": {
                    "rate_limit_per_hour": 3000,
                    "execution_window_start": "08:00",
                    "execution_window_end": "20:00",
                },
            },
        )
        clock.move_to("2025-11-03T12:00:05Z")
        ticker.tick()
    execution = Execution.objects.get(campaign=campaign)
    assert execution.settings == {
        "rate_limit_per_hour": 3000,
        "execution_window_start": "08:00:00",
        "execution_window_end": "20:00:00",
    }
    effective = Execution.objects.select_related("campaign").get(id=execution.id).campaign_with_settings()
    assert (effective.rate_limit_per_hour, effective.execution_window_start) == (3000, time(8))
    campaign.refresh_from_db()
    assert campaign.rate_limit_per_hour is None  # the campaign itself is unchanged


def test_a_paused_campaign_or_schedule_starts_nothing(campaign):
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False) as clock:
        schedule = make(campaign)
        services_start(campaign).transition(Execution.Status.CANCELLED)
        campaign.transition("paused")
        clock.move_to("2025-11-03T12:00:05Z")
        ticker.tick()
        run = ScheduleRun.objects.get(schedule=schedule)
        assert (run.status, run.reason) == ("skipped", "refused") and "paused" in run.detail
        services.pause_schedule(schedule=schedule, note="Natal")
        clock.move_to("2025-11-04T12:00:05Z")
        assert ticker.tick()["schedules"] == 0


def test_the_ticker_starts_exactly_what_the_preview_showed_over_a_month(campaign):
    """A month of 10-minute ticks (time moved, not slept): the starts equal the preview's occurrences."""
    body = {
        "recurrence_type": "cron",
        "start_date": "2025-11-01",
        "recurrence_config": {"expression": "0 8,15 * * MON-FRI"},
        "execution_window_start": "09:00:00",
        "execution_window_end": "18:00:00",
        "skip_holidays": True,
        "holiday_subdivision": "SP",
        "blackout_dates": ["2025-11-07"],
        "overlap_policy": "allow",
    }
    campaign.max_concurrent_executions = 1000
    campaign.save(update_fields=["max_concurrent_executions"])
    start = datetime.fromisoformat("2025-11-01T00:00:00+00:00")
    with time_machine.travel(start, tick=False) as clock:
        schedule = services.create_schedule(campaign=campaign, data=body)
        for data in (
            {"exception_type": "skip", "start_date": "2025-11-25T00:00:00Z", "end_date": "2025-11-26T23:59:59Z"},
            {
                "exception_type": "reschedule",
                "start_date": "2025-11-24T12:00:00Z",
                "rescheduled_to": "2025-11-29T14:00:00Z",
            },
            {
                "exception_type": "modify",
                "start_date": "2025-11-27T00:00:00Z",
                "end_date": "2025-11-27T23:59:59Z",
                "modified_config": {"rate_limit_per_hour": 3000},
            },
        ):
            services.add_exception(schedule=schedule, data=data)
        expected = occurrences.preview(schedule, schedule.exceptions.all(), after=start, count=100, days_ahead=30)
        at = start
        while at < start + timedelta(days=30):
            at += timedelta(minutes=10)
            clock.move_to(at)
            ticker.tick()

    runs = ScheduleRun.objects.filter(schedule=schedule).order_by("scheduled_for")
    assert {r.status for r in runs} == {"started"}
    assert [r.scheduled_for for r in runs] == [o.at for o in expected.occurrences]
    assert len(expected.occurrences) == 32  # 19 weekdays, less 20 Nov, 7 Nov (blackout), 25–26 Nov; 24 Nov moved
    events = list(Execution.objects.filter(campaign=campaign).order_by("id").values_list("trigger_event", "settings"))
    assert [e for e, _s in events] == [o.at.isoformat() for o in expected.occurrences]
    assert [s for _e, s in events if s] == [{"rate_limit_per_hour": 3000}] * 2
    schedule.refresh_from_db()
    assert schedule.execution_count == 32


def services_start(campaign) -> Execution:
    from campaigns.services.starting import start_campaign

    return start_campaign(campaign=campaign)


def test_backfill_starts_each_missed_occurrence_once_in_order(campaign):
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False) as clock:
        schedule = make(campaign, catchup_window=60)
        clock.move_to("2025-11-06T13:00:00Z")
        ticker.tick()  # 3rd–6th missed
        queued = services.backfill_schedule(
            schedule=schedule, start=utc("2025-11-04T00:00:00Z"), end=utc("2025-11-05T23:00:00Z")
        )
        assert len(queued) == 2
        assert ticker.tick()["started"] == 1  # the 4th; the 5th waits for it to end
        Execution.objects.filter(campaign=campaign).update(status="completed")
        assert ticker.tick()["started"] == 1
        assert ticker.tick()["started"] == 0
        assert (
            services.backfill_schedule(
                schedule=schedule, start=utc("2025-11-04T00:00:00Z"), end=utc("2025-11-05T23:00:00Z")
            )
            == []
        )
    runs = dict(ScheduleRun.objects.filter(schedule=schedule).values_list("scheduled_for__day", "status"))
    assert runs == {3: "missed", 4: "started", 5: "started", 6: "missed"}
    events = list(Execution.objects.filter(campaign=campaign).order_by("id").values_list("trigger_event", flat=True))
    assert [e[:10] for e in events] == ["2025-11-04", "2025-11-05"]


def test_setup_periodic_tasks_installs_the_ticker_every_30_seconds():
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("setup_periodic_tasks", stdout=__import__("io").StringIO())
    task = PeriodicTask.objects.get(name="campaigns: run due schedules")
    assert task.task == "campaigns.tasks.run_due_schedules" and task.interval.every == 30 and task.enabled


def test_start_date_in_the_past_does_not_fire_old_occurrences_on_creation(campaign):
    with time_machine.travel("2025-11-03T15:00:00Z", tick=False):
        schedule = make(campaign, start_date=date(2025, 10, 1).isoformat())
        assert schedule.next_scheduled_at == utc("2025-11-04T12:00:00Z")
        assert ticker.tick()["schedules"] == 0


def test_a_refused_start_writes_nothing_and_the_next_schedule_of_the_batch_starts(
    campaign, org_a, monkeypatch, django_capture_on_commit_callbacks
):
    """Starts share the batch's transaction without a savepoint each: a refusal found late
    (a broken variable mapping) must still come before any write; one dispatcher task per start."""
    from campaigns import tasks

    queued = []
    monkeypatch.setattr(tasks.dispatch_execution, "apply_async", lambda args, **options: queued.append(args[0]))
    other = CampaignFactory(organization=org_a)
    with time_machine.travel("2025-11-03T11:00:00Z", tick=False) as clock:
        broken, fine = make(campaign), make(other)
        type(campaign).objects.filter(id=campaign.id).update(variable_mapping={"name": "{{contact.name"})
        clock.move_to("2025-11-03T12:00:05Z")
        with django_capture_on_commit_callbacks(execute=True):
            counts = ticker.tick()
    assert (counts["started"], counts["skipped"]) == (1, 1)
    run = ScheduleRun.objects.get(schedule=broken)
    assert (run.status, run.reason) == ("skipped", "refused") and "variable_mapping" in run.detail
    assert not Execution.objects.filter(campaign=campaign).exists()
    execution = Execution.objects.get(campaign=other)
    assert ScheduleRun.objects.get(schedule=fine).execution == execution
    assert queued == [execution.id]
