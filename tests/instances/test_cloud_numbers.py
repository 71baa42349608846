"""Adding a Cloud API number in the API and the admin: ids required, secrets write-only and encrypted."""

import pytest
from django.urls import reverse

from instances.models import WhatsAppInstance
from tests.factories.instances import CloudInstanceFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/instances/"
ADD = reverse("admin:instances_whatsappinstance_add")

NEW = {
    "name": "Oficial SP",
    "provider": "cloud",
    "cloud_phone_number_id": "106540352242922",
    "cloud_business_account_id": "102290129340398",
    "cloud_access_token": "EAAG-SECRET-TOKEN",
    "cloud_app_secret": "APP-SECRET-9999",
    "cloud_verify_token": "VERIFY-7777",
}


def test_the_api_creates_a_cloud_number_and_never_echoes_its_secrets(alice_client, secret_keys):
    response = alice_client.post(LIST, NEW, format="json")

    assert response.status_code == 201, response.json()
    body = response.content.decode()
    assert "SECRET" not in body and "VERIFY-7777" not in body
    assert response.json()["cloud_secrets_stored"] == ["access_token", "app_secret", "verify_token"]
    instance = WhatsAppInstance.objects.get(id=response.json()["id"])
    assert "EAAG-SECRET-TOKEN" not in instance.cloud_secrets_encrypted
    assert instance.cloud_secrets()["access_token"] == "EAAG-SECRET-TOKEN"
    assert response.json()["webhook_url"].endswith(f"/api/webhooks/cloud/{instance.webhook_secret}/")


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ("cloud_phone_number_id", "cloud_phone_number_id"),
        ("cloud_business_account_id", "cloud_business_account_id"),
        ("cloud_access_token", "cloud_access_token"),
        ("cloud_app_secret", "cloud_app_secret"),
    ],
)
def test_a_cloud_number_needs_its_ids_and_secrets(alice_client, secret_keys, missing, field):
    response = alice_client.post(LIST, {k: v for k, v in NEW.items() if k != missing}, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_a_phone_number_id_belongs_to_one_instance(alice_client, org_b, secret_keys):
    CloudInstanceFactory(organization=org_b, cloud_phone_number_id="106540352242922")

    response = alice_client.post(LIST, NEW, format="json")

    assert response.status_code == 400
    assert "cloud_phone_number_id" in response.json()


def test_a_patch_without_secrets_keeps_them_and_a_new_one_replaces_only_itself(alice_client, org_a, secret_keys):
    instance = CloudInstanceFactory(organization=org_a)

    assert alice_client.patch(f"{LIST}{instance.id}/", {"name": "Renomeado"}, format="json").status_code == 200
    alice_client.patch(f"{LIST}{instance.id}/", {"cloud_access_token": "EAAG-ROTATED"}, format="json")

    instance.refresh_from_db()
    assert instance.cloud_secrets() == {
        "access_token": "EAAG-ROTATED",
        "app_secret": "app-secret-1234",
        "verify_token": "verify-5678",
    }


def test_the_admin_adds_a_cloud_number_with_write_only_secrets(admin_client, org_a, secret_keys):
    form = {
        "organization": org_a.id,
        "status": "active",
        "api_version": "v2",
        "sandbox_config": "{}",
        **NEW,
    }

    response = admin_client.post(ADD, form)

    assert response.status_code == 302, response.context["adminform"].form.errors
    instance = WhatsAppInstance.objects.get(cloud_phone_number_id="106540352242922")
    assert instance.cloud_secrets()["app_secret"] == "APP-SECRET-9999"
    page = admin_client.get(reverse("admin:instances_whatsappinstance_change", args=[instance.id])).content.decode()
    assert "SECRET" not in page and "VERIFY-7777" not in page
    assert 'name="cloud_access_token"' in page


def test_the_admin_names_the_missing_token(admin_client, org_a, secret_keys):
    form = {"organization": org_a.id, "status": "active", "api_version": "v2", "sandbox_config": "{}", **NEW}
    form["cloud_access_token"] = ""

    response = admin_client.post(ADD, form)

    assert response.status_code == 200
    assert "cloud_access_token" in response.context["adminform"].form.errors
