import pytest

from tests.factories.contacts import ContactFactory


@pytest.mark.django_db
def test_admin_actions_and_scoping(client, django_user_model, org_a, org_b, alice):
    alice.is_staff = True
    alice.is_superuser = True
    alice.save()
    client.force_login(alice)
    mine = ContactFactory(organization=org_a)
    response = client.post(
        "/admin/contacts/contact/", {"action": "opt_out", "_selected_action": [mine.id]}, follow=True
    )
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.opt_out_source == "admin"
    assert client.get("/admin/contacts/contact/?opted_out=yes").context["cl"].result_count == 1
    assert client.get("/admin/contacts/contact/?opted_out=no").context["cl"].result_count == 0
    client.post("/admin/contacts/contact/", {"action": "deactivate", "_selected_action": [mine.id]})
    mine.refresh_from_db()
    assert mine.is_active is False
