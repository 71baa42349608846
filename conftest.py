"""Shared fixtures: a cast of tenants (healthchecks' Alice, Bob and Charlie) and clients.

Alice owns organization A (admin). Bob is a member of A: an operator, he should have
access to her stuff. Vera is a viewer of A: she reads, never writes. Charlie has his own
organization B and should have no access to anything of A.
"""

import uuid

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Organization
from accounts.services import add_member, create_api_token


@pytest.fixture(autouse=True, scope="session")
def fast_password_hasher():
    """PBKDF2 costs ~0.4 s a user; the tests create hundreds of them."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def redis_key_prefix(settings):
    """Each test's Redis keys live under their own prefix (Zulip's rule), the cache's too
    (DRF's throttles and the per-address failure counts start empty in every test)."""
    prefix = f"test:{uuid.uuid4().hex[:12]}"
    settings.REDIS_KEY_PREFIX = prefix
    if settings.REDIS_URL:
        settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
    yield prefix
    from core.redis import get_redis

    client = get_redis()
    if client is not None:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture(autouse=True)
def loopback_providers(settings):
    """The fake providers (tests/support/fakes) and the factories' base_url live on 127.0.0.1: allowed
    here as a self-hosted Evolution on a private network is (PROVIDER_ALLOW_PRIVATE_NETWORKS).
    The SSRF tests turn it off again."""
    settings.PROVIDER_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def org_a(db):
    return Organization.objects.create(name="Alice Ltda", slug="alice")


@pytest.fixture
def org_b(db):
    return Organization.objects.create(name="Charlie SA", slug="charlie")


def _member(django_user_model, organization, username, role):
    user = django_user_model.objects.create_user(username, f"{username}@example.com", "password")
    add_member(organization=organization, user=user, role=role)
    return user


@pytest.fixture
def alice(django_user_model, org_a):
    return _member(django_user_model, org_a, "alice", Membership.Role.ADMIN)


@pytest.fixture
def bob(django_user_model, org_a):
    return _member(django_user_model, org_a, "bob", Membership.Role.OPERATOR)


@pytest.fixture
def vera(django_user_model, org_a):
    return _member(django_user_model, org_a, "vera", Membership.Role.VIEWER)


@pytest.fixture
def charlie(django_user_model, org_b):
    return _member(django_user_model, org_b, "charlie", Membership.Role.ADMIN)


def bearer_client(user) -> APIClient:
    _, key = create_api_token(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def alice_client(alice):
    return bearer_client(alice)


@pytest.fixture
def bob_client(bob):
    return bearer_client(bob)


@pytest.fixture
def vera_client(vera):
    return bearer_client(vera)


@pytest.fixture
def charlie_client(charlie):
    return bearer_client(charlie)


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def fake_provider():
    """A real HTTP server on 127.0.0.1 playing Evolution API and GOSAC (tests/support/fakes)."""
    from tests.support.fakes.provider_server import FakeProviderServer

    with FakeProviderServer() as server:
        yield server


@pytest.fixture
def secret_keys(settings):
    """A Fernet key for secrets at rest (core.crypto): outside DEBUG there is no default one."""
    from cryptography.fernet import Fernet

    settings.INTEGRATIONS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    return settings.INTEGRATIONS_ENCRYPTION_KEYS


@pytest.fixture
def fake_graph(settings, secret_keys):
    """Meta's Graph API (the WhatsApp Cloud API) on 127.0.0.1, set as CLOUD_API_BASE_URL (tests/support/fakes)."""
    from tests.support.fakes.graph_api import FakeGraphAPI

    with FakeGraphAPI() as server:
        settings.CLOUD_API_BASE_URL = server.url
        yield server


@pytest.fixture
def browser_plumbing(monkeypatch):
    """Playwright's sync API runs an event loop in this thread; Celery tasks run eagerly (plumbing)."""
    from config.celery import app

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager
