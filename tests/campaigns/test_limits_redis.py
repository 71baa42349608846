"""The send limiter on Redis when Redis loses its keys: caps and rates are rebuilt from the database."""

import pytest
from django.utils import timezone

from campaigns import limits
from campaigns.models import Recipient
from campaigns.sending import dispatch
from campaigns.services import starting
from core.redis import get_redis, key
from tests.factories.campaigns import CampaignFactory, make_evolution_instance
from tests.factories.contacts import ContactFactory

SEND = r"^/message/sendText/"


@pytest.fixture(autouse=True)
def on_redis(settings):
    if not settings.REDIS_URL:
        pytest.skip("the Redis limiter needs Redis")


def flush_limits() -> int:
    """What a Redis restart without persistence does to the limiter: every key gone."""
    client = get_redis()
    keys = list(client.scan_iter(match=key("limits", "*")))
    return client.delete(*keys) if keys else 0


def test_a_flush_during_the_day_does_not_reset_a_numbers_daily_cap(org_a, fake_provider):
    instance = make_evolution_instance(org_a, fake_provider.url)
    type(instance).objects.filter(id=instance.id).update(daily_cap=4)
    instance.refresh_from_db()
    ContactFactory.create_batch(10, organization=org_a)
    execution = starting.start_campaign(campaign=CampaignFactory(organization=org_a, instances=[instance]))
    assert dispatch.run(execution.id) != "more"
    assert len(fake_provider.requests_to(SEND)) == 4

    assert flush_limits() > 0
    # Another campaign on the same number, the same day.
    later = starting.start_campaign(campaign=CampaignFactory(organization=org_a, instances=[instance]))
    dispatch.run(later.id)

    assert len(fake_provider.requests_to(SEND)) == 4, "the cap was counted again from zero"
    assert limits.cap_status(instance)["used"] == 4
    assert Recipient.objects.filter(execution=later, status="pending").count() == 10


def test_a_flush_keeps_the_spacing_of_the_last_send(org_a, fake_provider):
    instance = make_evolution_instance(org_a, fake_provider.url)
    ContactFactory.create_batch(2, organization=org_a)
    campaign = CampaignFactory(organization=org_a, instances=[instance], rate_limit_per_hour=60)  # one a minute
    execution = starting.start_campaign(campaign=campaign)
    first = limits.reserve(campaign=campaign, instances=[instance], at=timezone.now(), max_wait=0)
    assert first.reserved and first.delay == 0
    Recipient.objects.filter(id=Recipient.objects.filter(execution=execution).first().id).update(
        attempted_at=timezone.now(), instance=instance
    )

    flush_limits()
    second = limits.reserve(campaign=campaign, instances=[instance], at=timezone.now(), max_wait=0)

    assert not second.reserved and 55 <= second.delay <= 60, second
