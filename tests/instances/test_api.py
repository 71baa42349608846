import pytest

from instances.models import SandboxMessage, WhatsAppInstance
from tests.factories.instances import EvolutionInstanceFactory, WhatsAppInstanceFactory
from tests.support.instances import answer

pytestmark = pytest.mark.django_db

LIST = "/api/v1/instances/"


def detail(instance, suffix=""):
    return f"{LIST}{instance.id}/{suffix}"


def test_the_list_shows_the_webhook_url_and_only_hints_of_secrets(alice_client, org_a, settings):
    settings.PUBLIC_BASE_URL = "https://whatsflow.example.com"
    instance = EvolutionInstanceFactory(
        organization=org_a, api_key="evo-key-VERYSECRET-1234", integration_key="int-SECRET-5678"
    )
    EvolutionInstanceFactory()  # another organization's

    response = alice_client.get(LIST)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == instance.id
    assert row["webhook_url"] == f"https://whatsflow.example.com/api/webhooks/evolution/{instance.webhook_secret}/"
    assert (row["api_key_hint"], row["integration_key_hint"]) == ("…1234", "…5678")
    assert "api_key" not in row and "integration_key" not in row
    assert "VERYSECRET" not in response.content.decode()
    assert "int-SECRET" not in response.content.decode()


def test_an_operator_creates_an_evolution_instance(bob_client, org_a):
    response = bob_client.post(
        LIST,
        {
            "name": "Loja Centro",
            "provider": "evolution",
            "base_url": "https://evo.example.com",
            "instance_name": "loja-centro",
            "api_key": "evo-key-NEW-0001",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert "evo-key-NEW" not in response.content.decode()
    row = WhatsAppInstance.objects.get(id=response.json()["id"])
    assert (row.organization_id, row.api_key, row.api_version) == (org_a.id, "evo-key-NEW-0001", "v2")


def test_an_evolution_instance_needs_its_settings(alice_client):
    response = alice_client.post(LIST, {"name": "X", "provider": "evolution"}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"base_url", "instance_name", "api_key"}
    assert not WhatsAppInstance.objects.exists()


def test_bad_sandbox_settings_are_a_400_naming_the_field(alice_client):
    response = alice_client.post(
        LIST, {"name": "S", "provider": "sandbox", "sandbox_config": {"read_delay": -1}}, format="json"
    )

    assert response.status_code == 400
    assert "read_delay" in response.json()["sandbox_config"][0]


def test_the_qr_login_mark_is_shown_filterable_and_read_only(alice_client, org_a):
    logged_out = EvolutionInstanceFactory(
        organization=org_a, connection_state="close", needs_qr_login=True, connection_reason="Logged out (401)"
    )
    EvolutionInstanceFactory(organization=org_a)

    rows = alice_client.get(LIST, {"needs_qr_login": "true"}).json()["results"]
    response = alice_client.patch(
        detail(logged_out), {"needs_qr_login": False, "connection_reason": "", "name": "Loja"}, format="json"
    )

    assert [(r["id"], r["needs_qr_login"], r["connection_reason"]) for r in rows] == [
        (logged_out.id, True, "Logged out (401)")
    ]
    assert response.status_code == 200 and response.json()["needs_qr_login"] is True
    logged_out.refresh_from_db()
    assert (logged_out.name, logged_out.needs_qr_login, logged_out.connection_reason) == (
        "Loja",
        True,
        "Logged out (401)",
    )


def test_a_patch_without_keys_keeps_them(alice_client, org_a):
    instance = EvolutionInstanceFactory(organization=org_a, api_key="keep-me-1234")

    response = alice_client.patch(detail(instance), {"name": "Renamed"}, format="json")

    assert response.status_code == 200
    instance.refresh_from_db()
    assert (instance.name, instance.api_key) == ("Renamed", "keep-me-1234")


def test_a_viewer_cannot_write(vera_client, org_a):
    instance = WhatsAppInstanceFactory(organization=org_a)

    assert vera_client.patch(detail(instance), {"name": "x"}, format="json").status_code == 403
    assert (
        vera_client.post(detail(instance, "test-message/"), {"phone": "+5511999999999", "text": "Oi"}).status_code
        == 403
    )
    assert not SandboxMessage.objects.exists()


def test_test_message_answers_with_the_provider_id(alice_client, org_a):
    instance = WhatsAppInstanceFactory(organization=org_a)

    response = alice_client.post(detail(instance, "test-message/"), {"phone": "(11) 99999-9999", "text": "Oi"})

    assert response.status_code == 200
    message = SandboxMessage.objects.get()
    assert response.json()["provider_message_id"] == message.provider_message_id
    assert (message.to_phone, message.text) == ("+5511999999999", "Oi")


def test_test_message_names_a_bad_phone(alice_client, org_a):
    instance = WhatsAppInstanceFactory(organization=org_a)

    response = alice_client.post(detail(instance, "test-message/"), {"phone": "12", "text": ""})

    assert response.status_code == 400
    assert set(response.json()) == {"phone", "text"}


def test_test_message_reports_what_evolution_said(alice_client, org_a, fake_provider):
    instance = EvolutionInstanceFactory(organization=org_a, base_url=fake_provider.url)
    fake_provider.respond(
        "POST", r"^/message/sendText/", status=400, json=answer("evolution", "send_text_not_on_whatsapp")
    )

    response = alice_client.post(detail(instance, "test-message/"), {"phone": "+5511999999999", "text": "Oi"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The number is not on WhatsApp",
        "code": "not_on_whatsapp",
        "provider_status": 400,
    }


def test_test_message_is_a_502_when_the_provider_is_down(alice_client, org_a, fake_provider):
    instance = EvolutionInstanceFactory(organization=org_a, base_url=fake_provider.url)
    fake_provider.respond("POST", r"^/message/sendText/", status=500, json={"status": 500, "error": "Internal"})

    response = alice_client.post(detail(instance, "test-message/"), {"phone": "+5511999999999", "text": "Oi"})

    assert response.status_code == 502
    assert response.json()["code"] == "server_error"


def test_connection_asks_the_provider_and_stores_the_state(alice_client, org_a, fake_provider):
    instance = EvolutionInstanceFactory(
        organization=org_a, base_url=fake_provider.url, connection_state="close", instance_name="loja-centro"
    )

    response = alice_client.get(detail(instance, "connection/"))

    assert response.status_code == 200
    assert response.json()["connection_state"] == "open"
    assert fake_provider.requests[0].path == "/instance/connectionState/loja-centro"
    instance.refresh_from_db()
    assert instance.connection_state == "open"


def test_another_organizations_instance_is_a_404_for_actions(alice_client, org_b):
    instance = WhatsAppInstanceFactory(organization=org_b)

    assert alice_client.get(detail(instance, "connection/")).status_code == 404
    assert (
        alice_client.post(detail(instance, "test-message/"), {"phone": "+5511999999999", "text": "x"}).status_code
        == 404
    )
    assert not SandboxMessage.objects.exists()
