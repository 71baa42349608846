"""The admin: secrets written through a form field, shown as a hint, a test-connection action, replays."""

import json

import pytest

from integrations.models import Integration, WebhookDelivery

pytestmark = pytest.mark.django_db

PASSWORD = "adm-pw-7731-secret"


@pytest.fixture
def staff_client(client, alice):
    alice.is_staff = True
    alice.is_superuser = True
    alice.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(alice)
    return client


def test_an_integration_is_created_tested_and_never_shows_its_secret(staff_client, org_a, fake_pontta):
    fake_pontta.password = PASSWORD
    response = staff_client.post(
        "/admin/integrations/integration/add/",
        {
            "organization": org_a.id,
            "kind": "pontta",
            "name": "pontta-admin",
            "settings": json.dumps({"base_url": fake_pontta.url, "business_unit": fake_pontta.business_unit}),
            "is_active": "on",
            "new_secrets": json.dumps({"email": fake_pontta.email, "password": PASSWORD}),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    integration = Integration.objects.get(name="pontta-admin")
    assert integration.get_secrets()["password"] == PASSWORD

    page = staff_client.get(f"/admin/integrations/integration/{integration.id}/change/").content.decode()
    assert PASSWORD not in page and "…cret" in page

    done = staff_client.post(
        "/admin/integrations/integration/",
        {"action": "test_connection", "_selected_action": [integration.id]},
        follow=True,
    )
    assert "Logged in to Pontta." in done.content.decode()
    integration.refresh_from_db()
    assert integration.last_test_ok is True


def test_bad_secrets_are_refused_naming_the_field(staff_client, org_a):
    response = staff_client.post(
        "/admin/integrations/integration/add/",
        {
            "organization": org_a.id,
            "kind": "pontta",
            "name": "p",
            "settings": json.dumps({"base_url": "https://x", "business_unit": "b"}),
            "new_secrets": json.dumps({"email": "a@b.c"}),
        },
    )
    assert response.status_code == 200 and "secrets.password" in response.content.decode()
    assert not Integration.objects.exists()


def test_deliveries_are_replayed_from_the_admin(staff_client, org_a, fake_receiver):
    from integrations.services import webhooks

    _subscription, fake_receiver.secret = webhooks.create_subscription(
        organization=org_a, url=f"{fake_receiver.url}/hooks/a", events=["conversation.completed"]
    )
    webhooks.forget_subscriptions()
    webhooks.enqueue_event(organization_id=org_a.id, type="conversation.completed", key="k1", payload={})
    webhooks.drain()
    delivery = WebhookDelivery.objects.get()

    staff_client.post(
        "/admin/integrations/webhookdelivery/", {"action": "replay", "_selected_action": [delivery.id]}, follow=True
    )
    webhooks.drain()

    delivery.refresh_from_db()
    assert delivery.attempts == 2 and len(fake_receiver.events()) == 2
    page = staff_client.get(f"/admin/integrations/webhookdelivery/{delivery.id}/change/")
    assert page.status_code == 200
