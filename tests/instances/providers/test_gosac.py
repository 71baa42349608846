import pytest

from instances.providers import get_provider
from instances.providers.base import ProviderRejected, ProviderUnavailable
from instances.services import send_media, send_text
from tests.factories.instances import GosacInstanceFactory
from tests.support.instances import answer, flushed

pytestmark = pytest.mark.django_db


@pytest.fixture
def gosac(org_a, fake_provider):
    return GosacInstanceFactory(
        organization=org_a, base_url=fake_provider.url, api_key="Bearer gs-auth-1234", integration_key="gs-int-5678"
    )


def test_send_text_posts_contact_and_message_with_both_keys(gosac, fake_provider):
    fake_provider.respond("POST", r"^/send-message$", json=answer("gosac", "send_message_ok"))

    result = send_text(instance=gosac, phone="4821", text="Olá")

    [request] = fake_provider.requests
    assert (request.method, request.path) == ("POST", "/send-message")
    assert request.header("authorization") == "Bearer gs-auth-1234"
    assert request.header("integration") == "gs-int-5678"
    assert request.json == {"contact_id": "4821", "message": "Olá"}
    assert result.provider_message_id == "a41f0c9e2b7d4e51"
    assert flushed(gosac).sent_today == 1


def test_an_e164_number_goes_as_its_digits(gosac, fake_provider):
    send_text(instance=gosac, phone="+5511999999999", text="Olá")

    assert fake_provider.requests[0].json["contact_id"] == "5511999999999"


def test_media_goes_as_text_with_the_link(gosac, fake_provider):
    send_media(instance=gosac, phone="4821", url="https://cdn.example.com/a.pdf", caption="Boleto")

    assert fake_provider.requests[0].json == {"contact_id": "4821", "message": "Boleto\nhttps://cdn.example.com/a.pdf"}


def test_get_contact_reads_the_contact(gosac, fake_provider):
    fake_provider.respond("GET", r"^/contacts/4821$", json=answer("gosac", "contact_ok"))

    contact = get_provider("gosac").get_contact(gosac, "4821")

    [request] = fake_provider.requests
    assert (request.method, request.path, request.header("integration")) == ("GET", "/contacts/4821", "gs-int-5678")
    assert contact["name"] == "Maria Souza"


def test_wrong_keys_are_rejected_as_unauthorized(gosac, fake_provider):
    fake_provider.respond("POST", r"^/send-message$", status=401, json=answer("gosac", "unauthorized"))

    with pytest.raises(ProviderRejected) as caught:
        send_text(instance=gosac, phone="4821", text="Olá")

    assert (caught.value.code, caught.value.instance_level) == ("unauthorized", True)
    assert "Invalid authorization or integration key" in str(caught.value)


def test_a_server_error_is_unavailable(gosac, fake_provider):
    fake_provider.respond("POST", r"^/send-message$", status=502, body="Bad Gateway", content_type="text/plain")

    with pytest.raises(ProviderUnavailable) as caught:
        send_text(instance=gosac, phone="4821", text="Olá")

    assert caught.value.status_code == 502
