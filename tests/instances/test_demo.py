import pytest

from instances.demo import seed
from instances.models import WhatsAppInstance

pytestmark = pytest.mark.django_db


def test_the_demo_seed_makes_one_open_sandbox_with_playback(org_a):
    seed(org_a)
    seed(org_a)

    instance = WhatsAppInstance.objects.get(organization=org_a)
    assert (instance.name, instance.provider, instance.connection_state) == ("Sandbox", "sandbox", "open")
    assert instance.playback["playback"] is True
    instance.full_clean()
