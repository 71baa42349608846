"""The integrations' one HTTP function refuses the addresses a tenant must never make the server call."""

import pytest

from integrations import http
from integrations.errors import IntegrationRejected


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/"])
def test_metadata_and_link_local_addresses_are_refused_always(url):
    with pytest.raises(IntegrationRejected) as refused:
        http.request("GET", url)
    assert refused.value.code == "forbidden_address"


def test_loopback_is_refused_unless_private_networks_are_allowed(settings, fake_receiver):
    settings.PROVIDER_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(IntegrationRejected) as refused:
        http.request("POST", f"{fake_receiver.url}/hooks", json={"a": 1})
    assert refused.value.code == "forbidden_address"
    assert fake_receiver.requests_to(r"^/hooks") == []

    settings.PROVIDER_ALLOW_PRIVATE_NETWORKS = True
    assert http.request("POST", f"{fake_receiver.url}/hooks", json={"a": 1}).ok
