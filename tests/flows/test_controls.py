"""Bot settings are bounded (issue 12, finding 3: DEBOUNCE_TIME 1.18e21 broke every inbound message)."""

import pytest

from flows import controls
from flows.models import SystemSetting
from flows.models.settings import NUMBER_BOUNDS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("key", "value"),
    [("DEBOUNCE_TIME", 1.18e21), ("DEBOUNCE_TIME", 10**7), ("MESSAGE_COOLDOWN", 10**9), ("MESSAGE_COOLDOWN", -1)],
)
def test_an_out_of_range_setting_is_a_400(alice_client, org_a, key, value):
    response = alice_client.put(f"/api/v1/settings/{key}", {"value": value}, format="json")

    assert response.status_code == 400 and "value" in response.json()
    assert not SystemSetting.objects.filter(organization=org_a, key=key).exists()


def test_a_setting_at_its_bound_is_kept(alice_client, org_a):
    low, high = NUMBER_BOUNDS["DEBOUNCE_TIME"]

    response = alice_client.put("/api/v1/settings/DEBOUNCE_TIME", {"value": high}, format="json")

    assert response.status_code == 200
    assert controls.get_bot_settings(organization_id=org_a.id).DEBOUNCE_TIME == high


def test_a_stored_out_of_range_value_falls_back_to_the_default(org_a, settings):
    SystemSetting.objects.create(
        organization=org_a, key="DEBOUNCE_TIME", value="1180000000000000000000", value_type="number"
    )

    bot = controls.get_bot_settings(organization_id=org_a.id)

    assert bot.DEBOUNCE_TIME == settings.FLOWS_BOT_DEFAULTS["DEBOUNCE_TIME"]
