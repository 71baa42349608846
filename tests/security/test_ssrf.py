"""Finding 9 of issue 12: the server never calls link-local or cloud-metadata addresses, and
loopback or private ones only with PROVIDER_ALLOW_PRIVATE_NETWORKS; checked at save and at call."""

import pytest

from core.http_guard import ForbiddenAddress
from flows import received_files
from instances import services
from instances.models import WhatsAppInstance
from instances.providers.base import ProviderRejected
from tests.factories.instances import EvolutionInstanceFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/instances/"


def _create(client, base_url):
    return client.post(
        LIST,
        {"name": "Loja", "provider": "evolution", "base_url": base_url, "instance_name": "loja", "api_key": "k" * 12},
        format="json",
    )


@pytest.mark.parametrize(
    "base_url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]:8080",
        "http://[::ffff:169.254.169.254]",
        "http://metadata.google.internal",
        "http://[fd00:ec2::254]",
        "http://100.100.100.200",
        "http://0.0.0.0:8080",
        "http://224.0.0.1",
    ],
)
def test_metadata_and_link_local_addresses_are_refused_even_when_private_networks_are_allowed(
    alice_client, settings, base_url
):
    settings.PROVIDER_ALLOW_PRIVATE_NETWORKS = True
    response = _create(alice_client, base_url)
    assert response.status_code == 400
    assert list(response.json()) == ["base_url"]
    assert not WhatsAppInstance.objects.exists()


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:8080", "http://localhost:8080", "http://10.0.0.5", "http://192.168.1.10", "http://[::1]:8080"],
)
def test_loopback_and_private_addresses_need_the_setting(alice_client, settings, base_url):
    settings.PROVIDER_ALLOW_PRIVATE_NETWORKS = False
    refused = _create(alice_client, base_url)
    assert refused.status_code == 400
    assert "PROVIDER_ALLOW_PRIVATE_NETWORKS" in refused.json()["base_url"][0]
    settings.PROVIDER_ALLOW_PRIVATE_NETWORKS = True
    assert _create(alice_client, base_url).status_code == 201


def test_a_public_name_that_does_not_resolve_yet_is_accepted(alice_client, settings):
    settings.PROVIDER_ALLOW_PRIVATE_NETWORKS = False
    assert _create(alice_client, "https://evolution.example.invalid").status_code == 201


def test_a_saved_private_url_is_refused_when_called_and_nothing_reaches_it(org_a, settings, fake_provider):
    instance = EvolutionInstanceFactory(organization=org_a, base_url=fake_provider.url)  # saved while allowed
    settings.PROVIDER_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(ProviderRejected) as refused:
        services.send_text(instance=instance, phone="+5511999999999", text="Olá")
    assert refused.value.code == "forbidden_address"
    assert fake_provider.requests == []
    # Allowed again (a self-hosted Evolution on this network), the same call goes through.
    settings.PROVIDER_ALLOW_PRIVATE_NETWORKS = True
    services.send_text(instance=instance, phone="+5511999999999", text="Olá")
    assert len(fake_provider.requests) == 1


def test_a_name_is_checked_by_what_it_resolves_to_when_called(org_a, settings, fake_provider):
    port = fake_provider.url.rsplit(":", 1)[1]
    instance = EvolutionInstanceFactory(organization=org_a, base_url=f"http://localhost:{port}")
    settings.PROVIDER_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(ProviderRejected):
        services.send_text(instance=instance, phone="+5511999999999", text="Olá")
    assert fake_provider.requests == []


def test_a_received_file_url_from_a_webhook_is_not_fetched_from_a_private_address(settings, fake_provider):
    settings.PROVIDER_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(ForbiddenAddress):
        received_files._download(f"{fake_provider.url}/files/rg.pdf", limit=1000)
    with pytest.raises(ForbiddenAddress):
        received_files._download("http://169.254.169.254/latest/meta-data/iam/", limit=1000)
    assert fake_provider.requests == []
