"""Bodies of the wrong JSON type are a 400, never a 500 (issue 12, finding 4)."""

import pytest

from tests.factories.contacts import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"1", b"null", b'{"reason": {"a": 1}}', b'{"reason": [1]}'])
def test_an_opt_out_body_of_the_wrong_type_is_a_400(alice_client, org_a, body):
    contact = ContactFactory(organization=org_a)

    response = alice_client.generic(
        "POST", f"/api/v1/contacts/{contact.id}/opt-out", body, content_type="application/json"
    )

    assert response.status_code == 400, response.content
    contact.refresh_from_db()
    assert contact.opted_out_at is None


def test_an_opt_out_with_a_reason_still_works(alice_client, org_a):
    contact = ContactFactory(organization=org_a)

    response = alice_client.post(f"/api/v1/contacts/{contact.id}/opt-out", {"reason": "pediu"}, format="json")

    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.opted_out_at is not None and contact.opt_out_reason == "pediu"


def test_an_empty_opt_out_body_is_fine(alice_client, org_a):
    contact = ContactFactory(organization=org_a)

    assert alice_client.post(f"/api/v1/contacts/{contact.id}/opt-out").status_code == 200


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"1", b"null", b"true"])
@pytest.mark.parametrize(
    "url", ["/api/v1/import/flows", "/api/v1/settings/DEBOUNCE_TIME", "/api/v1/bot/test-mode", "/api/v1/contacts/"]
)
def test_a_non_object_body_is_a_400(alice_client, url, body):
    method = "PUT" if "settings" in url else "POST"

    response = alice_client.generic(method, url, body, content_type="application/json")

    assert response.status_code == 400, response.content
