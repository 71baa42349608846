"""Every numeric campaign field has a sane range: a 400 naming the field, and a check constraint.

Issue 12, finding 3: `min_interval_seconds: 1e300` was accepted and crashed the
dispatcher, leaving a recipient in `sending`.
"""

import pytest
from django.db import IntegrityError, transaction

from campaigns.models import Campaign
from campaigns.models.campaign import BOUNDS
from tests.factories.campaigns import CampaignFactory
from tests.support.automations import URL, example

pytestmark = pytest.mark.django_db

TOO_BIG = {
    "max_concurrent_executions": 10**6,
    "rate_limit_per_hour": 10**9,
    "min_interval_seconds": 1e300,
    "interval_jitter_seconds": 1e300,
    "pause_every_n_sends": 10**12,
    "pause_seconds": 10**9,
    "max_retries": 10**4,
}
TOO_SMALL = {
    "max_concurrent_executions": 0,
    "rate_limit_per_hour": 0,
    "min_interval_seconds": -1,
    "interval_jitter_seconds": -0.5,
    "pause_every_n_sends": 0,
    "pause_seconds": -1,
    "max_retries": -1,
}


@pytest.mark.parametrize("values", [TOO_BIG, TOO_SMALL], ids=["too_big", "too_small"])
@pytest.mark.parametrize("field", sorted(TOO_BIG))
def test_an_out_of_range_field_is_a_400_naming_it(alice_client, setup, field, values):
    response = alice_client.post(URL, {**example(*setup), field: values[field]}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Campaign.objects.exists()


def test_nan_from_a_form_is_a_400(alice_client, setup):
    flow, instance, _ = setup
    body = {"name": "x", "chatbot_id": flow.template_id, "flow_id": flow.id, "whatsapp_number_id": instance.id}

    response = alice_client.post(URL, {**body, "min_interval_seconds": "nan"})

    assert response.status_code == 400 and "min_interval_seconds" in response.json()


@pytest.mark.parametrize("field", sorted(TOO_BIG))
def test_the_database_refuses_an_out_of_range_field(org_a, field):
    campaign = CampaignFactory(organization=org_a)

    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(id=campaign.id).update(**{field: BOUNDS[field][1] + 1})


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../../etc/passwd", "America/Sao_Paulo\x00"])
def test_an_unknown_time_zone_is_a_400_naming_it(alice_client, setup, zone):
    response = alice_client.post(URL, {**example(*setup), "time_zone": zone}, format="json")

    assert response.status_code == 400 and "time_zone" in response.json()
    assert not Campaign.objects.exists()
