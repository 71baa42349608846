import pytest
from django.core.cache import cache

from integrations.clients import pontta
from integrations.errors import IntegrationRejected
from integrations.services.connections import check_integration

pytestmark = pytest.mark.django_db


def test_it_logs_in_once_and_keeps_the_token_for_later_calls(pontta_integration, fake_pontta):
    first = pontta.create_ticket(pontta_integration, contact_id="5511999990001", subject="Pedido", message="Oi")
    second = pontta.create_ticket(pontta_integration, contact_id="5511999990001", subject="Outro", message="Oi")

    assert (first["id"], second["id"]) == (1001, 1002)
    assert fake_pontta.logins == 1
    login = fake_pontta.requests_to(r"^/auth/login$")[0]
    assert login.header("businessunit") == "bu-1"
    assert login.json == {"email": "bot@loja.com", "password": "s3cret"}
    ticket = fake_pontta.requests_to(r"^/tickets$")[0]
    assert ticket.json == {"contact_id": "5511999990001", "subject": "Pedido", "message": "Oi", "status": "open"}
    assert ticket.header("authorization").startswith("Bearer ")
    listed = pontta.list_tickets(pontta_integration, contact_id="5511999990001")
    assert [t["id"] for t in listed] == [1001, 1002]


def test_the_token_is_shared_through_the_cache(pontta_integration, fake_pontta):
    pontta.create_ticket(pontta_integration, contact_id="1", subject="a", message="b")
    token = cache.get(pontta._token_key(pontta_integration))

    assert token in fake_pontta.valid_tokens
    # Another process reads the same cache entry: it does not log in again.
    reloaded = type(pontta_integration).objects.get(id=pontta_integration.id)
    pontta.create_ticket(reloaded, contact_id="1", subject="a", message="b")
    assert fake_pontta.logins == 1


def test_an_expiring_token_is_not_kept_and_the_next_call_logs_in_again(pontta_integration, fake_pontta, settings):
    fake_pontta.token_seconds = 30  # under the 60 s margin: used once, never cached
    pontta.create_ticket(pontta_integration, contact_id="1", subject="a", message="b")
    pontta.create_ticket(pontta_integration, contact_id="1", subject="a", message="b")

    assert fake_pontta.logins == 2
    assert cache.get(pontta._token_key(pontta_integration)) is None


def test_a_401_logs_in_again_once_and_repeats_the_call(pontta_integration, fake_pontta):
    pontta.create_ticket(pontta_integration, contact_id="1", subject="a", message="b")
    fake_pontta.revoke_tokens()

    ticket = pontta.create_ticket(pontta_integration, contact_id="1", subject="again", message="b")

    assert ticket["subject"] == "again"
    assert fake_pontta.logins == 2
    assert len(fake_pontta.tickets) == 2


def test_a_second_401_is_a_clear_error(pontta_integration, fake_pontta):
    fake_pontta.respond("POST", r"^/tickets$", status=401, json={"message": "no access"})
    fake_pontta._script.insert(0, fake_pontta._script.pop())  # before the default handler

    with pytest.raises(IntegrationRejected, match="401 even with a fresh token"):
        pontta.create_ticket(pontta_integration, contact_id="1", subject="a", message="b")
    assert fake_pontta.logins == 2


def test_wrong_credentials_fail_the_connection_test_with_a_reason(pontta_integration, fake_pontta):
    fake_pontta.password = "changed"

    ok, message = check_integration(integration=pontta_integration)

    pontta_integration.refresh_from_db()
    assert ok is False and "refused the login" in message
    assert pontta_integration.last_test_ok is False
    assert fake_pontta.password not in message and "s3cret" not in pontta_integration.last_test_message


def test_the_connection_test_passes_with_good_credentials(pontta_integration):
    ok, message = check_integration(integration=pontta_integration)

    pontta_integration.refresh_from_db()
    assert ok and pontta_integration.last_test_ok and pontta_integration.last_tested_at


def test_a_refused_connection_is_retryable(org_a):
    from integrations.errors import IntegrationUnavailable
    from integrations.services.connections import create_integration

    integration = create_integration(
        organization=org_a,
        kind="pontta",
        name="down",
        settings={"base_url": "http://127.0.0.1:9", "business_unit": "x"},
        secrets={"email": "a@b.c", "password": "p"},
    )
    with pytest.raises(IntegrationUnavailable):
        pontta.login(integration)
    with pytest.raises(IntegrationRejected):
        raise IntegrationRejected("x")
