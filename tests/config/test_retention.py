"""The nightly retention: what is older than its kind's days goes, in batches; the rest stays."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import CampaignLog, SendSlot
from config.retention import apply_retention
from flows.models import FlowActivity, MessageHistory
from instances.models import SandboxMessage
from tests.factories.campaigns import make_log
from tests.factories.flows import activity_for, history_for
from tests.factories.instances import SandboxMessageFactory, WhatsAppInstanceFactory
from tests.factories.webhooks import WebhookEventFactory
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

DAYS = {
    "webhook_events": 30,
    "message_history": 180,
    "sandbox_messages": 7,
    "send_slots": 2,
    "campaign_logs": 90,
    "activity_logs": 30,
}


@pytest.fixture(autouse=True)
def retention(settings):
    settings.RETENTION_DAYS = dict(DAYS)


def aged(row, field: str, days: float):
    type(row).objects.filter(pk=row.pk).update(**{field: timezone.now() - timedelta(days=days)})
    return row


def both_sides(make, field: str, days: int, count: int = 3):
    """`count` rows a day older than the cut and `count` a day younger."""
    old = [aged(make(), field, days + 1).pk for _ in range(count)]
    young = [aged(make(), field, days - 1).pk for _ in range(count)]
    return old, young


def test_each_kind_loses_what_is_older_than_its_days_and_keeps_the_rest(org_a):
    instance = WhatsAppInstanceFactory(organization=org_a)

    def event(**kwargs):
        return WebhookEventFactory(organization=org_a, instance=instance, **{"status": "applied", **kwargs})

    def history():
        row = history_for(org_a)
        MessageHistory.objects.filter(pk=row.pk).update(processed_at=timezone.now())
        return row

    def slot():
        return SendSlot.objects.create(key=f"k{SendSlot.objects.count()}", value=1, expires_at=timezone.now())

    kinds = {
        WebhookEvent: both_sides(event, "received_at", 30),
        MessageHistory: both_sides(history, "created_at", 180),
        SandboxMessage: both_sides(lambda: SandboxMessageFactory(instance=instance), "created_at", 7),
        SendSlot: both_sides(slot, "expires_at", 2),
        CampaignLog: both_sides(lambda: make_log(org_a), "created_at", 90),
        FlowActivity: both_sides(lambda: activity_for(org_a), "created_at", 30),
    }
    # Old, but still needed: an unapplied event, a failed one, the applied connection event an
    # instance's unsettled connection events are compared with, and an unprocessed inbound message.
    pending = aged(event(status=WebhookEvent.Status.PENDING), "received_at", 400)
    failed = aged(event(status=WebhookEvent.Status.FAILED), "received_at", 400)
    settled = aged(event(event="connection.update"), "received_at", 400)
    aged(event(event="connection.update", status=WebhookEvent.Status.PENDING), "received_at", 400)
    unprocessed = aged(history_for(org_a), "created_at", 400)

    dry = apply_retention(dry_run=True)
    assert dry == {
        "webhook_events": 3,
        "message_history": 3,
        "sandbox_messages": 3,
        "send_slots": 3,
        "campaign_logs": 3,
        "activity_logs": 3,
    }
    assert WebhookEvent.objects.filter(pk__in=kinds[WebhookEvent][0]).count() == 3  # a dry run deletes nothing

    counts = apply_retention(batch_size=2)  # several batches per kind

    assert counts == dry
    for model, (old, young) in kinds.items():
        assert not model.objects.filter(pk__in=old).exists(), model
        assert model.objects.filter(pk__in=young).count() == 3, model
    assert WebhookEvent.objects.filter(pk__in=[pending.pk, failed.pk, settled.pk]).count() == 3
    assert MessageHistory.objects.filter(pk=unprocessed.pk).exists()


def test_a_kind_with_zero_days_is_kept_forever(settings, org_a):
    settings.RETENTION_DAYS = {**DAYS, "campaign_logs": 0}
    log = aged(make_log(org_a), "created_at", 4000)
    assert "campaign_logs" not in apply_retention()
    assert CampaignLog.objects.filter(pk=log.pk).exists()


def test_the_command_reports_each_kind(org_a, capsys):
    aged(make_log(org_a), "created_at", 91)
    call_command("apply_retention", "--dry-run")
    out = capsys.readouterr().out
    assert "campaign_logs: would delete 1" in out and CampaignLog.objects.count() == 1
    call_command("apply_retention")
    assert "campaign_logs: deleted 1" in capsys.readouterr().out and CampaignLog.objects.count() == 0


def test_the_nightly_job_is_installed(settings):
    from django_celery_beat.models import PeriodicTask

    call_command("setup_periodic_tasks")
    task = PeriodicTask.objects.get(name="ops: retention")
    assert task.task == "config.tasks.apply_retention" and task.crontab is not None
