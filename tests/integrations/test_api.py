"""`/api/v1/integrations/`: tenant-scoped, secrets write-only and encrypted, the connection test."""

import json
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from integrations.models import Integration

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Zq81-never-shown"


def create(client, fake_pontta, **extra):
    body = {
        "kind": "pontta",
        "name": "pontta-loja",
        "settings": {"base_url": fake_pontta.url, "business_unit": fake_pontta.business_unit},
        "secrets": {"email": fake_pontta.email, "password": PASSWORD},
        **extra,
    }
    return client.post("/api/v1/integrations/", body, format="json")


def test_secrets_are_stored_encrypted_and_never_answered(alice_client, fake_pontta, caplog):
    caplog.set_level(logging.DEBUG)
    fake_pontta.password = PASSWORD

    created = create(alice_client, fake_pontta)
    listed = alice_client.get("/api/v1/integrations/")
    tested = alice_client.post(f"/api/v1/integrations/{created.data['id']}/test")

    assert created.status_code == 201, created.content
    assert created.data["secret_hint"] == "email=….com, password=…hown"
    assert "secrets" not in created.data
    for response in (created, listed, tested):
        assert PASSWORD not in response.content.decode()
    assert tested.data == {"ok": True, "message": "Logged in to Pontta."}
    row = Integration.objects.get(id=created.data["id"])
    assert PASSWORD not in row.secrets_encrypted and row.get_secrets()["password"] == PASSWORD
    assert PASSWORD not in caplog.text


def test_an_update_without_secrets_keeps_them_and_with_one_merges(alice_client, fake_pontta):
    created = create(alice_client, fake_pontta)
    url = f"/api/v1/integrations/{created.data['id']}/"

    alice_client.patch(url, {"name": "pontta-2"}, format="json")
    alice_client.patch(url, {"secrets": {"password": "new-password-1"}}, format="json")

    row = Integration.objects.get(id=created.data["id"])
    assert row.name == "pontta-2"
    assert row.get_secrets() == {"email": fake_pontta.email, "password": "new-password-1"}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"secrets": {"email": "a@b.c"}}, "secrets.password"),
        ({"secrets": {"email": "a@b.c", "password": "x", "token": "y"}}, "secrets.token"),
        ({"secrets": ["x"]}, "secrets"),
        ({"settings": {"base_url": "ftp://x", "business_unit": "b"}}, "settings"),
        ({"settings": {"base_url": "https://x"}}, "settings"),
        ({"kind": "ftp"}, "kind"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(alice_client, fake_pontta, extra, field):
    response = create(alice_client, fake_pontta, **extra)

    assert response.status_code == 400, response.content
    assert field in response.data
    assert not Integration.objects.exists()


def test_a_google_key_must_look_like_a_service_account(alice_client):
    response = alice_client.post(
        "/api/v1/integrations/",
        {"kind": "google", "name": "g", "secrets": {"service_account": {"client_email": "x"}}},
        format="json",
    )
    assert response.status_code == 400 and "secrets.service_account" in response.data


def test_roles_and_tenancy(alice_client, vera_client, charlie_client, bob_client, fake_pontta):
    assert create(vera_client, fake_pontta).status_code == 403
    created = create(bob_client, fake_pontta)
    assert created.status_code == 201
    assert charlie_client.get(f"/api/v1/integrations/{created.data['id']}/").status_code == 404
    assert charlie_client.post(f"/api/v1/integrations/{created.data['id']}/test").status_code == 404
    assert vera_client.get(f"/api/v1/integrations/{created.data['id']}/").status_code == 200
    assert vera_client.post(f"/api/v1/integrations/{created.data['id']}/test").status_code == 403


def test_the_kind_cannot_change(alice_client, fake_pontta):
    created = create(alice_client, fake_pontta)
    response = alice_client.patch(f"/api/v1/integrations/{created.data['id']}/", {"kind": "http"}, format="json")
    assert response.status_code == 400 and "kind" in response.data


def test_without_a_key_secrets_cannot_be_written(org_a, settings):
    from integrations.services.connections import create_integration

    settings.INTEGRATIONS_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="INTEGRATIONS_ENCRYPTION_KEYS"):
        create_integration(organization=org_a, kind="http", name="h", secrets={"bearer_token": "t"})


def test_keys_rotate_the_old_one_still_decrypts(org_a, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from integrations.services.connections import create_integration

    old = settings.INTEGRATIONS_ENCRYPTION_KEYS[0]
    integration = create_integration(
        organization=org_a, kind="http", name="h", secrets={"bearer_token": "tok-123456789"}
    )
    new = Fernet.generate_key().decode()
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [new, old]

    call_command("rotate_integration_secrets")

    settings.INTEGRATIONS_ENCRYPTION_KEYS = [new]
    integration.refresh_from_db()
    assert integration.get_secrets() == {"bearer_token": "tok-123456789"}


@pytest.mark.parametrize(
    "settings_value",
    [
        {"base_url": "https://x", "business_unit": "b\x00"},
        {"base_url": "https://x", "business_unit": "b", "x": "\ud800"},
    ],
)
def test_text_jsonb_cannot_hold_is_a_400(alice_client, fake_pontta, settings_value):
    body = {"kind": "pontta", "name": "p", "settings": settings_value, "secrets": {"email": "a@b.c", "password": "x"}}
    # json.dumps escapes a lone surrogate as \\ud800, which the server's parser turns back into one.
    response = alice_client.post("/api/v1/integrations/", json.dumps(body), content_type="application/json")
    # The project's JSON reader refuses it first, naming the path (`settings.x`).
    assert response.status_code == 400 and any(key.startswith("settings") for key in response.data)


def test_an_action_step_through_the_api_is_validated(alice_client, org_a):
    from tests.factories.flows import SubflowFactory, flow_for

    subflow = SubflowFactory(flow=flow_for(org_a))
    body = {"subflow": subflow.id, "action": "sheets_lookup", "action_config": {"integration": "g", "params": {}}}
    refused = alice_client.post("/api/v1/flow-messages/", body, format="json")
    nul = alice_client.post(
        "/api/v1/flow-messages/",
        {
            **body,
            "action_config": {"integration": "g\x00", "params": {"spreadsheet_id": "s", "column": "c", "value": "v"}},
        },
        format="json",
    )
    accepted = alice_client.post(
        "/api/v1/flow-messages/",
        {
            **body,
            "action_config": {"integration": "g", "params": {"spreadsheet_id": "s", "column": "c", "value": "{{x}}"}},
        },
        format="json",
    )

    assert refused.status_code == 400 and "params.spreadsheet_id" in str(refused.data["action_config"])
    assert nul.status_code == 400 and any(key.startswith("action_config") for key in nul.data)
    assert accepted.status_code == 201, accepted.content


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:6379/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:5432/"]
)
def test_a_subscription_to_an_address_deliveries_refuse_is_refused_at_save(url, alice_client, settings, org_a):
    settings.PROVIDER_ALLOW_PRIVATE_NETWORKS = False
    body = {"url": url, "events": ["recipient.delivered"]}

    refused = alice_client.post("/api/v1/webhook-subscriptions/", body, format="json")
    as_instance = alice_client.post(
        "/api/v1/instances/",
        {"name": "evo", "provider": "evolution", "base_url": url, "instance_name": "loja", "api_key": "k"},
        format="json",
    )

    assert refused.status_code == 400, refused.json()
    assert refused.json()["url"] == as_instance.json()["base_url"]
