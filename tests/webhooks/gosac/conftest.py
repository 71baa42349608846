import pytest

from instances.models import WhatsAppInstance
from tests.factories.instances import WhatsAppInstanceFactory
from tests.support.gosac import GosacSender


@pytest.fixture
def gosac_instance(org_a, fake_provider):
    return WhatsAppInstanceFactory(
        organization=org_a,
        provider=WhatsAppInstance.Provider.GOSAC,
        base_url=fake_provider.url,
        api_key="gosac-token",
        integration_key="integration",
        connection_state="open",
    )


@pytest.fixture
def gosac(anon_client, gosac_instance):
    return GosacSender(anon_client, gosac_instance)
