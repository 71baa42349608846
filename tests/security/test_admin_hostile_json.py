"""The admin's JSON fields read through the same checks as the API (found grepping for issue 12's classes).

A custom field `{"plan": "gold\\u0000"}` typed into the admin reached PostgreSQL (500), and
3,000 levels of nesting made the form's json.loads recurse (500); both are form errors now.
"""

import pytest

from contacts.models import Contact
from tests.factories.contacts import ContactFactory

pytestmark = pytest.mark.django_db


def change(admin_client, contact, custom_fields: str):
    return admin_client.post(
        f"/admin/contacts/contact/{contact.id}/change/",
        {
            "organization": contact.organization_id,
            "phone": contact.phone,
            "name": "Maria",
            "email": "",
            "custom_fields": custom_fields,
            "is_active": "on",
        },
    )


@pytest.mark.parametrize(
    "custom_fields",
    ['{"plan": "gold\\u0000"}', '{"plan": "\\ud800"}', '{"n": 1e999}', '{"a": ' * 3_000 + "1" + "}" * 3_000],
)
def test_a_json_field_with_unstorable_content_is_a_form_error(admin_client, org_a, custom_fields):
    contact = ContactFactory(organization=org_a, custom_fields={"plan": "silver"})

    response = change(admin_client, contact, custom_fields)

    assert response.status_code == 200  # the form again, with its error
    assert response.context["adminform"].form.errors["custom_fields"]
    contact.refresh_from_db()
    assert contact.custom_fields == {"plan": "silver"}


def test_a_clean_json_field_is_saved(admin_client, org_a):
    contact = ContactFactory(organization=org_a)

    response = change(admin_client, contact, '{"plan": "gold"}')

    assert response.status_code == 302
    assert Contact.objects.get(id=contact.id).custom_fields == {"plan": "gold"}
