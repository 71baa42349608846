import pytest
from cryptography.fernet import Fernet

from tests.support.fakes.partners import FakeGoogle, FakePontta, FakeReceiver, service_account_key

TEST_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def encryption_keys(settings):
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [TEST_KEY]
    return [TEST_KEY]


@pytest.fixture
def fake_pontta():
    with FakePontta() as server:
        yield server


@pytest.fixture
def fake_google(settings):
    with FakeGoogle() as server:
        info, public_key = service_account_key(token_uri="https://oauth2.googleapis.com/token")
        server.public_key = public_key
        server.service_account = info
        settings.INTEGRATIONS_GOOGLE_API_ROOT_URL = server.url
        settings.INTEGRATIONS_GOOGLE_TOKEN_URI = server.token_uri
        yield server


@pytest.fixture
def fake_receiver():
    with FakeReceiver() as server:
        yield server


@pytest.fixture
def pontta_integration(org_a, fake_pontta):
    from integrations.services.connections import create_integration

    return create_integration(
        organization=org_a,
        kind="pontta",
        name="pontta-loja",
        settings={"base_url": fake_pontta.url, "business_unit": fake_pontta.business_unit},
        secrets={"email": fake_pontta.email, "password": fake_pontta.password},
    )


@pytest.fixture
def google_integration(org_a, fake_google):
    from integrations.services.connections import create_integration

    return create_integration(
        organization=org_a, kind="google", name="google-loja", secrets={"service_account": fake_google.service_account}
    )


@pytest.fixture
def eager_celery():
    """Plumbing only: queued tasks run in the test's process (the claims are tested on their own)."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
