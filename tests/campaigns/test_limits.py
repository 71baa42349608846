"""The send limiter on `SendSlot` rows (no Redis): spacing, pauses, daily caps, several numbers, concurrency."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from campaigns import limits
from campaigns.models import SendSlot
from tests.factories.campaigns import CampaignFactory
from tests.factories.instances import EvolutionInstanceFactory

# 10:00 in São Paulo, the organizations' default time zone.
START = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_redis(settings):
    settings.REDIS_URL = ""
    settings.CAMPAIGNS_WARMUP_LADDER = [(1, 2), (3, 3)]
    settings.CAMPAIGNS_INSTANCE_DAILY_CAP = 0


def number(organization, age_days: float = 60):
    instance = EvolutionInstanceFactory(organization=organization)
    type(instance).objects.filter(id=instance.id).update(created_at=START - timedelta(days=age_days))
    instance.refresh_from_db()
    return instance


def reserve(campaign, instances, max_wait=3600.0):
    from django.utils import timezone

    return limits.reserve(campaign=campaign, instances=instances, at=timezone.now(), max_wait=max_wait)


def test_the_spacing_is_the_larger_of_the_interval_and_the_hourly_rate(org_a):
    one = number(org_a)
    by_rate = CampaignFactory(organization=org_a, rate_limit_per_hour=360, min_interval_seconds=4, instances=[one])
    with time_machine.travel(START, tick=False):
        delays = [reserve(by_rate, [one]).delay for _ in range(3)]
    assert delays == [0.0, 10.0, 20.0]

    two = number(org_a)
    by_interval = CampaignFactory(organization=org_a, rate_limit_per_hour=360, min_interval_seconds=30, instances=[two])
    with time_machine.travel(START, tick=False):
        delays = [reserve(by_interval, [two]).delay for _ in range(3)]
    assert delays == [0.0, 30.0, 60.0]
    assert SendSlot.objects.get(key=f"campaign:{by_interval.id}:sent").value == 3


def test_jitter_only_lengthens_the_interval(org_a):
    one = number(org_a)
    campaign = CampaignFactory(organization=org_a, min_interval_seconds=10, interval_jitter_seconds=5, instances=[one])
    with time_machine.travel(START, tick=False):
        delays = [reserve(campaign, [one]).delay for _ in range(6)]
    gaps = [later - earlier for earlier, later in zip(delays, delays[1:], strict=False)]
    assert all(10 <= gap <= 15 for gap in gaps), gaps


def test_a_slot_further_than_the_wait_allowed_is_reported_not_booked(org_a):
    one = number(org_a)
    campaign = CampaignFactory(organization=org_a, min_interval_seconds=60, instances=[one])
    with time_machine.travel(START, tick=False) as clock:
        assert reserve(campaign, [one], max_wait=10).reserved
        later = reserve(campaign, [one], max_wait=10)
        again = reserve(campaign, [one], max_wait=10)
        assert (later.reserved, later.delay, later.instance) == (False, 60.0, one)
        assert (again.reserved, again.delay) == (False, 60.0)

        clock.shift(55)
        booked = reserve(campaign, [one], max_wait=10)
    assert (booked.reserved, booked.delay) == (True, 5.0)
    assert SendSlot.objects.get(key=f"campaign:{campaign.id}:sent").value == 2


def test_it_pauses_after_every_n_sends(org_a):
    one = number(org_a)
    campaign = CampaignFactory(
        organization=org_a, min_interval_seconds=1, pause_every_n_sends=3, pause_seconds=100, instances=[one]
    )
    with time_machine.travel(START, tick=False):
        delays = [reserve(campaign, [one]).delay for _ in range(7)]
    assert delays == [0.0, 1.0, 2.0, 103.0, 104.0, 105.0, 206.0]


def test_the_daily_cap_follows_the_warm_up_ladder_and_waits_for_the_next_local_day(org_a):
    newborn, young, grown = number(org_a, age_days=0.5), number(org_a, age_days=2), number(org_a, age_days=30)
    assert [limits.daily_cap(i, START) for i in (newborn, young, grown)] == [2, 3, 0]
    campaign = CampaignFactory(organization=org_a, instances=[young])

    with time_machine.travel(START, tick=False):
        sent = [reserve(campaign, [young]) for _ in range(3)]
        over = reserve(campaign, [young])
    assert all(slot.reserved and slot.instance == young and slot.delay == 0 for slot in sent)
    assert (over.instance, over.reserved) == (None, False)
    assert SendSlot.objects.get(key=f"instance:{young.id}:day:2026-03-10").value == 3

    # 23:59 local is still the same day; 00:00 in São Paulo (03:00 UTC) is the next.
    with time_machine.travel(datetime(2026, 3, 11, 2, 59, tzinfo=UTC), tick=False):
        assert reserve(campaign, [young]).instance is None
    with time_machine.travel(datetime(2026, 3, 11, 3, 0, tzinfo=UTC), tick=False):
        next_day = reserve(campaign, [young])
    assert (next_day.instance, next_day.reserved) == (young, True)
    assert SendSlot.objects.get(key=f"instance:{young.id}:day:2026-03-11").value == 1


def test_it_picks_the_number_free_soonest_and_skips_those_over_their_cap(org_a):
    busy, free, capped = number(org_a), number(org_a), number(org_a, age_days=0.5)
    other = CampaignFactory(organization=org_a, min_interval_seconds=60, instances=[busy])
    campaign = CampaignFactory(organization=org_a, min_interval_seconds=10, instances=[busy, free])

    with time_machine.travel(START, tick=False):
        # Another campaign keeps `busy` until +120 s.
        reserve(other, [busy])
        reserve(other, [busy])
        first, second = reserve(campaign, [busy, free]), reserve(campaign, [busy, free])
        assert (first.instance, first.delay) == (free, 0.0)
        assert (second.instance, second.delay) == (free, 10.0)

        # A number over its daily cap is never chosen, however free it is.
        spare = CampaignFactory(organization=org_a, instances=[capped])
        reserve(spare, [capped])
        reserve(spare, [capped])
        third = reserve(campaign, [capped, busy])
    assert (third.instance, third.delay) == (busy, 120.0)


def _reserve_in_threads(jobs: list, times: int) -> list:
    """Run `reserve(*job)` `times` times in one thread per job, all starting together."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [], []

    def work(campaign, instances):
        try:
            barrier.wait()
            for _ in range(times):
                results.append(reserve(campaign, instances))
        except Exception as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=job) for job in jobs]
    with time_machine.travel(START, tick=False):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_threads_reserving_at_once_never_get_the_same_slot(org_a):
    one = number(org_a)
    campaign = CampaignFactory(organization=org_a, min_interval_seconds=1, instances=[one])

    results = _reserve_in_threads([(campaign, [one]), (campaign, [one])], times=25)

    assert sorted(slot.delay for slot in results) == [float(n) for n in range(50)]
    assert SendSlot.objects.get(key=f"campaign:{campaign.id}:sent").value == 50


@pytest.mark.django_db(transaction=True)
def test_campaigns_sharing_numbers_in_a_different_order_do_not_deadlock(org_a):
    jobs = []
    for _ in range(3):
        first, second = number(org_a), number(org_a)
        jobs += [
            (CampaignFactory(organization=org_a, min_interval_seconds=1, instances=[first, second]), [first, second]),
            (CampaignFactory(organization=org_a, min_interval_seconds=1, instances=[second, first]), [second, first]),
        ]

    results = _reserve_in_threads(jobs, times=10)

    assert len(results) == 60 and all(slot.reserved for slot in results)
    slots = sorted((slot.instance.id, slot.delay) for slot in results)
    # Per number, no two sends share a slot (spacing is per campaign, numbers queue the rest).
    assert len(slots) == len(set(slots))


def test_an_expired_slot_counts_as_free(org_a):
    one = number(org_a)
    campaign = CampaignFactory(organization=org_a, min_interval_seconds=10, instances=[one])
    far = int((START + timedelta(hours=5)).timestamp() * 1000)
    SendSlot.objects.create(key=f"campaign:{campaign.id}:next", value=far, expires_at=START - timedelta(seconds=1))

    with time_machine.travel(START, tick=False):
        slot = reserve(campaign, [one])

    assert (slot.reserved, slot.delay) == (True, 0.0)
    assert SendSlot.objects.get(key=f"campaign:{campaign.id}:next").value == int(START.timestamp() * 1000) + 10_000
