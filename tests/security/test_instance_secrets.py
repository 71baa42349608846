"""Finding 10 of issue 12: the webhook URL (it embeds the secret) is for organization admins only;
instance names are unique per provider server, and the refusal names no other organization."""

import json

import pytest
from django.test import Client

from tests.factories.instances import EvolutionInstanceFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/instances/"


def test_only_the_organizations_admins_read_the_webhook_url(alice_client, bob_client, vera_client, org_a):
    instance = EvolutionInstanceFactory(organization=org_a)
    assert instance.webhook_secret in alice_client.get(f"{LIST}{instance.id}/").json()["webhook_url"]
    for client in (bob_client, vera_client):  # operator, viewer
        for response in (client.get(f"{LIST}{instance.id}/"), client.get(LIST)):
            assert response.status_code == 200
            assert instance.webhook_secret not in response.content.decode()
        assert client.get(f"{LIST}{instance.id}/").json()["webhook_url"] is None


def _create(client, name, base_url="https://evo.example.com"):
    body = {"name": "N", "provider": "evolution", "base_url": base_url, "instance_name": name, "api_key": "k" * 12}
    return client.post(LIST, body, format="json")


def test_the_same_instance_name_on_another_server_is_allowed_and_the_refusal_reveals_no_organization(
    alice_client, charlie_client
):
    assert _create(alice_client, "evo-a").status_code == 201
    # Another organization, another Evolution server: the same name is theirs to use.
    assert _create(charlie_client, "evo-a", base_url="https://evo.charlie.example.com").status_code == 201
    # The same server and name are one instance of that server: refused, without saying whose.
    refused = _create(charlie_client, "evo-a", base_url="https://evo.example.com/")
    assert refused.status_code == 400
    text = json.dumps(refused.json())
    assert "not available on this provider server" in text
    assert "organization" not in text.lower() and "alice" not in text.lower()


def test_webhooks_find_the_instance_whose_credential_came_with_the_shared_name(org_a, org_b, settings):
    settings.WEBHOOKS_APPLY_IN_REQUEST = False
    first = EvolutionInstanceFactory(organization=org_a, instance_name="loja", base_url="https://one.example.com")
    second = EvolutionInstanceFactory(organization=org_b, instance_name="loja", base_url="https://two.example.com")
    event = {"event": "messages.delete", "instance": "loja", "data": {"id": "X1", "remoteJid": "5511@s.whatsapp.net"}}
    for instance in (first, second):
        for body in (event, {**event, "apikey": instance.api_key}):
            path = (
                f"/api/webhooks/evolution/{instance.webhook_secret}/"
                if "apikey" not in body
                else "/api/webhooks/evolution/"
            )
            response = Client().post(path, data=json.dumps(body), content_type="application/json")
            assert response.status_code == 200, response.content
    from webhooks.models import WebhookEvent

    assert set(WebhookEvent.objects.values_list("instance_id", "organization_id")) == {
        (first.id, org_a.id),
        (second.id, org_b.id),
    }
    wrong = Client().post(
        "/api/webhooks/evolution/", data=json.dumps({**event, "apikey": "nope"}), content_type="application/json"
    )
    assert wrong.status_code == 401


def test_the_admin_shows_the_webhook_url_to_the_organizations_admins_only(django_user_model, org_a):
    from django.contrib.auth.models import Permission

    from accounts.models import Membership
    from accounts.services import add_member

    instance = EvolutionInstanceFactory(organization=org_a)
    pages = {}
    for username, role in (("ana", Membership.Role.ADMIN), ("otto", Membership.Role.OPERATOR)):
        user = django_user_model.objects.create_user(username, f"{username}@example.com", "pw", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="instances"))
        add_member(organization=org_a, user=user, role=role)
        client = Client()
        client.force_login(user)
        response = client.get(f"/admin/instances/whatsappinstance/{instance.id}/change/")
        assert response.status_code == 200
        pages[role] = response.content.decode()
    assert instance.webhook_secret in pages[Membership.Role.ADMIN]
    assert instance.webhook_secret not in pages[Membership.Role.OPERATOR]
