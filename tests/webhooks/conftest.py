import pytest

from config.celery import app as celery_app
from flows.models import SystemSetting
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


@pytest.fixture
def no_waits(org_a):
    """No debounce and no cooldown: each message is processed as soon as it is queued."""
    for key in ("DEBOUNCE_TIME", "MESSAGE_COOLDOWN"):
        SystemSetting.objects.create(organization=org_a, key=key, value="0", value_type="number")


@pytest.fixture
def eager_celery():
    """Plumbing only: queued tasks run in the test's process and transaction."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False
