"""Daily counters, the health score and the midnight reset in each organization's time zone."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from accounts.models import Organization
from instances import counters
from instances.models import WhatsAppInstance, compute_health_score
from instances.services import (
    flush_counters,
    record_message_delivered,
    record_message_failed,
    record_message_read,
    record_message_sent,
    record_reply,
    reset_daily_counters,
)
from tests.factories.instances import WhatsAppInstanceFactory

pytestmark = pytest.mark.django_db


def test_records_accumulate_in_redis_until_flushed(org_a):
    instance = WhatsAppInstanceFactory(organization=org_a)

    record_message_sent(instance_id=instance.id, count=3)
    record_message_delivered(instance_id=instance.id, count=2)
    record_message_read(instance_id=instance.id)
    record_message_failed(instance_id=instance.id)
    record_reply(instance_id=instance.id)

    assert WhatsAppInstance.objects.get(id=instance.id).sent_today == 0
    assert counters.pending(instance_id=instance.id) == {
        "sent": 3,
        "delivered": 2,
        "read": 1,
        "failed": 1,
        "replies": 1,
    }
    assert flush_counters() == 1
    row = WhatsAppInstance.objects.get(id=instance.id)
    assert (row.sent_today, row.delivered_today, row.read_today, row.failed_today, row.replies_today) == (3, 2, 1, 1, 1)
    assert counters.pending(instance_id=instance.id) == {}
    assert flush_counters() == 0


def test_without_redis_each_record_updates_the_row(org_a, settings):
    settings.REDIS_URL = ""
    instance = WhatsAppInstanceFactory(organization=org_a)

    record_message_sent(instance_id=instance.id)
    record_message_sent(instance_id=instance.id)
    record_message_failed(instance_id=instance.id)

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert (row.sent_today, row.failed_today) == (2, 1)


def test_a_flush_for_a_deleted_instance_is_dropped(org_a):
    gone_id = WhatsAppInstanceFactory(organization=org_a).id + 1000
    record_message_sent(instance_id=gone_id)

    assert flush_counters() == 0
    assert counters.pending(instance_id=gone_id) == {}


def test_health_keeps_its_score_below_the_minimum_sample(org_a):
    instance = WhatsAppInstanceFactory(organization=org_a, health_score=80)

    record_message_failed(instance_id=instance.id, count=19)
    flush_counters()

    assert WhatsAppInstance.objects.get(id=instance.id).health_score == 80


def test_health_follows_todays_rates_once_the_sample_is_large_enough(org_a):
    instance = WhatsAppInstanceFactory(organization=org_a, health_score=100)

    record_message_sent(instance_id=instance.id, count=100)
    record_message_delivered(instance_id=instance.id, count=100)
    record_message_read(instance_id=instance.id, count=100)
    flush_counters()
    assert WhatsAppInstance.objects.get(id=instance.id).health_score == 100

    # 100 sent, 25 failed: 50 * 25/125 = 10 points; 60 more sent, none delivered yet.
    record_message_failed(instance_id=instance.id, count=25)
    record_message_sent(instance_id=instance.id, count=60)
    flush_counters()
    row = WhatsAppInstance.objects.get(id=instance.id)
    expected = round(100 - 50 * 25 / 185 - 30 * (1 - 100 / 160) - 10 * (1 - 100 / 160))
    assert row.health_score == expected == 78


def test_the_formula_counts_a_read_as_delivered_and_weighs_disconnects():
    assert compute_health_score(sent=50, delivered=0, read=50, failed=0, disconnects=0, previous=10) == 100
    assert compute_health_score(sent=50, delivered=50, read=50, failed=0, disconnects=2, previous=10) == 80
    assert compute_health_score(sent=50, delivered=50, read=50, failed=0, disconnects=9, previous=10) == 70
    assert compute_health_score(sent=0, delivered=0, read=0, failed=40, disconnects=9, previous=10) == 0


def test_reset_follows_midnight_in_each_organizations_time_zone(org_a, org_b):
    Organization.objects.filter(id=org_a.id).update(time_zone="America/Sao_Paulo")  # UTC-3
    Organization.objects.filter(id=org_b.id).update(time_zone="America/Manaus")  # UTC-4
    sp = WhatsAppInstanceFactory(organization=org_a)
    manaus = WhatsAppInstanceFactory(organization=org_b)

    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        for instance in (sp, manaus):
            record_message_sent(instance_id=instance.id, count=5)
            record_reply(instance_id=instance.id, count=2)
        flush_counters()
        assert reset_daily_counters() == 0

    # 03:10 UTC: 00:10 in São Paulo (a new day), still 23:10 of the 2nd in Manaus.
    with time_machine.travel(datetime(2026, 3, 3, 3, 10, tzinfo=UTC), tick=False):
        assert reset_daily_counters() == 1
    sp_row, manaus_row = WhatsAppInstance.objects.get(id=sp.id), WhatsAppInstance.objects.get(id=manaus.id)
    assert (sp_row.sent_today, sp_row.replies_today, sp_row.counters_date) == (0, 0, date(2026, 3, 3))
    assert (manaus_row.sent_today, manaus_row.replies_today, manaus_row.counters_date) == (5, 2, date(2026, 3, 2))

    with time_machine.travel(datetime(2026, 3, 3, 4, 10, tzinfo=UTC), tick=False):
        assert reset_daily_counters() == 1
        assert reset_daily_counters() == 0
    assert WhatsAppInstance.objects.get(id=manaus.id).sent_today == 0


def test_a_flush_on_a_new_day_starts_the_counters_over(org_a):
    instance = WhatsAppInstanceFactory(organization=org_a)
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        record_message_sent(instance_id=instance.id, count=7)
        flush_counters()

    with time_machine.travel(datetime(2026, 3, 3, 12, 0, tzinfo=UTC), tick=False):
        record_message_sent(instance_id=instance.id)
        flush_counters()

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert (row.sent_today, row.counters_date) == (1, date(2026, 3, 3))


def test_a_new_instance_is_reset_to_its_local_date(org_a):
    instance = WhatsAppInstanceFactory(organization=org_a)

    with time_machine.travel(datetime(2026, 3, 3, 2, 0, tzinfo=UTC), tick=False):
        assert reset_daily_counters() == 1

    assert WhatsAppInstance.objects.get(id=instance.id).counters_date == date(2026, 3, 2)


def test_deferred_counts_are_added_together_when_the_block_ends(org_a):
    instance = WhatsAppInstanceFactory(organization=org_a)
    other = WhatsAppInstanceFactory(organization=org_a)

    with counters.deferred():
        record_message_sent(instance_id=instance.id)
        record_message_sent(instance_id=instance.id)
        record_message_failed(instance_id=other.id)
        with counters.deferred():  # an inner block leaves them to the outer one
            record_message_sent(instance_id=instance.id)
        assert counters.pending(instance_id=instance.id) == {}

    assert counters.pending(instance_id=instance.id) == {"sent": 3}
    assert counters.pending(instance_id=other.id) == {"failed": 1}
    assert flush_counters() == 2


def test_deferred_without_redis_updates_the_row_at_the_end(org_a, settings):
    settings.REDIS_URL = ""
    instance = WhatsAppInstanceFactory(organization=org_a)

    with counters.deferred():
        for _ in range(5):
            record_message_sent(instance_id=instance.id)
        record_message_failed(instance_id=instance.id)
        assert WhatsAppInstance.objects.get(id=instance.id).sent_today == 0

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert (row.sent_today, row.failed_today) == (5, 1)
