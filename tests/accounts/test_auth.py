from django.core.management import call_command

from accounts.models import ApiToken
from conftest import bearer_client


def test_it_requires_a_token(anon_client, alice):
    response = anon_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_it_rejects_a_wrong_token(anon_client, alice):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")
    response = anon_client.get("/api/v1/me")
    assert response.status_code == 401
    assert "token" in response.json()["detail"].lower()


def test_it_rejects_a_malformed_header(anon_client, alice):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer two parts")
    assert anon_client.get("/api/v1/me").status_code == 401


def test_it_rejects_a_revoked_token(alice):
    client = bearer_client(alice)
    ApiToken.objects.get(user=alice).revoke()
    assert client.get("/api/v1/me").status_code == 401


def test_it_accepts_a_bearer_token(alice_client, org_a):
    response = alice_client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json() == {
        "username": "alice",
        "organizations": [{"id": org_a.id, "slug": "alice", "name": "Alice Ltda", "role": "admin"}],
    }
    assert ApiToken.objects.get().last_used_at is not None


def test_it_accepts_a_session(client, alice):
    client.force_login(alice)
    assert client.get("/api/v1/me").status_code == 200


def test_create_api_token_prints_the_token_alone_on_the_last_line(alice, capsys):
    call_command("create_api_token", "alice", "--name", "CRM")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    token = ApiToken.objects.get(user=alice)
    assert token.name == "CRM"
    assert token.key_hash == ApiToken.hash_key(key)
    assert bearer_for_key(key).get("/api/v1/me").status_code == 200


def bearer_for_key(key):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client
