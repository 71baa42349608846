import pytest

from contacts.models import Contact
from tests.factories.contacts import ContactFactory

URL = "/api/v1/contacts/bulk/"


@pytest.mark.django_db
def test_numbers_one_a_line_return_ids_in_input_order(bob_client, org_a):
    existing = ContactFactory(organization=org_a, phone="+551133334444")
    text = "11 99999-9999\n(11) 3333-4444\nnot a phone\n+55 21 98888-7777\n11999999999\n"
    response = bob_client.post(URL, {"numbers": text, "tags": ["lista"]}, format="json")
    assert response.status_code == 200, response.data
    ids = response.data["ids"]
    assert len(ids) == 5
    assert ids[1] == existing.id
    assert ids[2] is None
    assert ids[0] == ids[4] == Contact.objects.get(organization=org_a, phone="+5511999999999").id
    assert ids[3] == Contact.objects.get(organization=org_a, phone="+5521988887777").id
    assert (response.data["created"], response.data["updated"], response.data["invalid"]) == (2, 2, 1)
    assert response.data["errors"] == [
        {"row": 3, "column": "phone", "reason": '"not a phone" is not a valid phone number.', "value": "not a phone"}
    ]
    assert set(Contact.objects.filter(tags__name="lista").values_list("id", flat=True)) == {i for i in ids if i}


@pytest.mark.django_db
def test_csv_saves_good_rows_and_reports_bad_ones(alice_client, org_a):
    opted_out = ContactFactory(organization=org_a, phone="+5511977776666", name="Old")
    opted_out.mark_opted_out(reason="SAIR")
    text = (
        "phone,name,email,cidade\n"
        "11 98888-1111,Ana,ana@example.com,Santos\n"
        "123,Bad,bad@example.com,X\n"
        "11 98888-2222,Bia,not-an-email,Rio\n"
        "11 97777-6666,Novo Nome,,Campinas\n"
    )
    response = alice_client.post(URL, {"csv": text}, format="json")
    assert response.status_code == 200, response.data
    assert (response.data["created"], response.data["updated"], response.data["invalid"]) == (1, 1, 2)
    assert [(e["row"], e["column"]) for e in response.data["errors"]] == [(3, "phone"), (4, "email")]
    ana = Contact.objects.get(organization=org_a, phone="+5511988881111")
    assert response.data["ids"] == [ana.id, None, None, opted_out.id]
    assert (ana.name, ana.email, ana.custom_fields) == ("Ana", "ana@example.com", {"cidade": "Santos"})
    opted_out.refresh_from_db()
    assert opted_out.name == "Novo Nome"
    assert opted_out.custom_fields == {"cidade": "Campinas"}
    assert opted_out.opted_out_at is not None


@pytest.mark.django_db
def test_csv_without_a_phone_column_is_a_400(alice_client):
    response = alice_client.post(URL, {"csv": "name,email\nAna,a@b.com\n"}, format="json")
    assert response.status_code == 400
    assert "phone" in str(response.data["csv"])
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_neither_or_both_inputs_is_a_400(alice_client):
    assert alice_client.post(URL, {}, format="json").status_code == 400
    response = alice_client.post(URL, {"numbers": "11999999999", "csv": "phone\n"}, format="json")
    assert response.status_code == 400
    assert "numbers" in response.data


@pytest.mark.django_db
def test_blank_lines_of_numbers_are_skipped_not_invalid(bob_client, org_a):
    response = bob_client.post(URL, {"numbers": "11 99999-9999\n\n   \n11 98888-7777\n"}, format="json")

    assert response.status_code == 200, response.data
    assert (response.data["created"], response.data["invalid"], response.data["errors"]) == (2, 0, [])
    assert len(response.data["ids"]) == 2 and None not in response.data["ids"]


@pytest.mark.django_db
def test_the_old_bulk_screen_creates_a_contact_by_whatsapp_id_or_gets_it(bob_client, org_a):
    body = {"whatsapp_id": "5511999999999", "name": "João", "email": "j@x.com"}

    created = bob_client.post("/api/v1/contacts", body, format="json")
    again = bob_client.post("/api/v1/contacts", body, format="json")
    neither = bob_client.post("/api/v1/contacts", {"name": "x"}, format="json")

    assert created.status_code == 201 and again.status_code == 200
    assert created.json()["id"] == again.json()["id"] == Contact.objects.get(phone="+5511999999999").id
    assert created.json()["whatsapp_id"] == "5511999999999" and created.json()["phone"] == "+5511999999999"
    assert neither.status_code == 400 and "phone" in neither.json()
