import pytest

from contacts.models import Contact, Tag
from tests.factories.contacts import ContactFactory, TagFactory

URL = "/api/v1/contacts/"


@pytest.mark.django_db
class TestCreateOrGet:
    def test_a_new_phone_is_created_normalized_with_tags(self, alice_client, org_a):
        response = alice_client.post(
            URL,
            {"phone": "(11) 99999-9999", "name": "Ana", "tags": ["vip", "sp"], "custom_fields": {"points": 120}},
            format="json",
        )
        assert response.status_code == 201, response.data
        contact = Contact.objects.get(id=response.data["id"])
        assert contact.organization == org_a
        assert contact.phone == "+5511999999999"
        assert contact.custom_fields == {"points": 120}
        assert sorted(contact.tags.values_list("name", flat=True)) == ["sp", "vip"]
        assert response.data["tags"] == ["sp", "vip"]

    def test_an_existing_phone_returns_the_contact_updated_with_non_empty_fields(self, bob_client, org_a):
        contact = ContactFactory(
            organization=org_a, phone="+5511999999999", name="Ana", email="ana@example.com", custom_fields={"a": 1}
        )
        response = bob_client.post(
            URL,
            {"phone": "5511999999999", "name": "", "email": "nova@example.com", "custom_fields": {"b": 2}},
            format="json",
        )
        assert response.status_code == 200, response.data
        assert response.data["id"] == contact.id
        contact.refresh_from_db()
        assert contact.name == "Ana"
        assert contact.email == "nova@example.com"
        assert contact.custom_fields == {"a": 1, "b": 2}
        assert Contact.objects.filter(organization=org_a).count() == 1

    def test_columns_that_name_no_field_are_kept_as_custom_fields(self, alice_client, org_a):
        body = {"whatsapp_id": "5511999999999", "name": "Ana", "company": "ACME", "points": 120, "tags_x": None}
        response = alice_client.post(URL, {**body, "custom_fields": {"points": 130}}, format="json")
        assert response.status_code == 201, response.data
        contact = Contact.objects.get(id=response.data["id"])
        assert contact.custom_fields == {"company": "ACME", "points": 130}
        patched = alice_client.patch(f"{URL}{contact.id}/", {"city": "Recife"}, format="json")
        assert patched.status_code == 200
        contact.refresh_from_db()
        assert contact.custom_fields == {"company": "ACME", "points": 130}

    def test_an_unstorable_column_is_a_400_naming_it(self, alice_client, org_a):
        response = alice_client.post(URL, {"phone": "+5511999999999", "company": "AC\u0000ME"}, format="json")
        assert response.status_code == 400, response.data
        assert "company" in str(response.data)

    def test_the_same_phone_in_another_organization_is_another_contact(self, alice_client, org_a, org_b):
        other = ContactFactory(organization=org_b, phone="+5511999999999")
        response = alice_client.post(URL, {"phone": "+5511999999999"}, format="json")
        assert response.status_code == 201
        assert response.data["id"] != other.id

    def test_an_invalid_phone_is_a_400_naming_the_field(self, alice_client):
        response = alice_client.post(URL, {"phone": "12345"}, format="json")
        assert response.status_code == 400
        assert "12345" in str(response.data["phone"])
        assert not Contact.objects.exists()

    def test_an_invalid_email_is_a_400_naming_the_field(self, alice_client):
        response = alice_client.post(URL, {"phone": "11999999999", "email": "nope"}, format="json")
        assert response.status_code == 400
        assert "email" in response.data

    def test_a_viewer_cannot_write(self, vera_client, org_a):
        contact = ContactFactory(organization=org_a)
        assert vera_client.post(URL, {"phone": "11999999999"}, format="json").status_code == 403
        assert vera_client.patch(f"{URL}{contact.id}/", {"name": "x"}, format="json").status_code == 403
        assert vera_client.delete(f"{URL}{contact.id}/").status_code == 403
        bulk = vera_client.post(f"{URL}bulk/", {"numbers": "11999999999"}, format="json")
        assert bulk.status_code == 403
        assert Contact.objects.count() == 1
        assert vera_client.get(URL).status_code == 200


@pytest.mark.django_db
class TestListFilters:
    @pytest.fixture
    def contacts(self, org_a, org_b):
        vip = TagFactory(organization=org_a, name="vip")
        gold = TagFactory(organization=org_a, name="gold")
        ana = ContactFactory(organization=org_a, name="Ana Souza", phone="+5511911112222", email="ana@x.com")
        ana.tags.add(vip, gold)
        bia = ContactFactory(organization=org_a, name="Bia", phone="+5521933334444")
        bia.tags.add(gold)
        out = ContactFactory(organization=org_a, name="Caio", phone="+5531955556666")
        out.mark_opted_out(reason="SAIR", source="keyword:SAIR")
        gone = ContactFactory(organization=org_a, name="Duda", phone="+5541977778888", is_active=False)
        ContactFactory(organization=org_b, name="Ana de B", phone="+5511911112222")
        return {"ana": ana, "bia": bia, "out": out, "gone": gone}

    def ids(self, client, query):
        response = client.get(URL + query)
        assert response.status_code == 200
        return {row["id"] for row in response.data["results"]}

    def test_it_filters_by_tag(self, alice_client, contacts):
        assert self.ids(alice_client, "?tag=vip") == {contacts["ana"].id}
        assert self.ids(alice_client, "?tag=gold") == {contacts["ana"].id, contacts["bia"].id}
        assert self.ids(alice_client, "?tag=vip,gold") == {contacts["ana"].id, contacts["bia"].id}

    def test_it_filters_by_opt_out_and_active(self, alice_client, contacts):
        assert self.ids(alice_client, "?opted_out=true") == {contacts["out"].id}
        assert contacts["out"].id not in self.ids(alice_client, "?opted_out=false")
        assert self.ids(alice_client, "?is_active=false") == {contacts["gone"].id}

    def test_it_searches_name_email_and_phone_digits(self, alice_client, contacts):
        assert self.ids(alice_client, "?search=souza") == {contacts["ana"].id}
        assert self.ids(alice_client, "?search=ana@x") == {contacts["ana"].id}
        assert self.ids(alice_client, "?search=93333-4444") == {contacts["bia"].id}

    def test_it_paginates_and_shows_only_the_callers_organization(self, alice_client, contacts):
        response = alice_client.get(URL)
        assert response.data["count"] == 4
        assert {"next", "previous", "results"} <= set(response.data)
        ContactFactory.create_batch(60, organization=contacts["ana"].organization)
        page = alice_client.get(URL)
        assert page.data["count"] == 64
        assert len(page.data["results"]) == 50
        assert len(alice_client.get(URL + "?page=2").data["results"]) == 14


@pytest.mark.django_db
class TestUpdateAndDelete:
    def test_patch_normalizes_the_phone_and_replaces_tags(self, bob_client, org_a):
        contact = ContactFactory(organization=org_a)
        contact.tags.add(TagFactory(organization=org_a, name="old"))
        response = bob_client.patch(f"{URL}{contact.id}/", {"phone": "(21) 3333-4444", "tags": ["new"]}, format="json")
        assert response.status_code == 200, response.data
        assert response.data["tags"] == ["new"]
        contact.refresh_from_db()
        assert contact.phone == "+552133334444"
        assert list(contact.tags.values_list("name", flat=True)) == ["new"]

    def test_patch_to_a_phone_another_contact_has_is_a_400(self, bob_client, org_a):
        ContactFactory(organization=org_a, phone="+5511999999999")
        contact = ContactFactory(organization=org_a, phone="+5511988888888")
        response = bob_client.patch(f"{URL}{contact.id}/", {"phone": "11999999999"}, format="json")
        assert response.status_code == 400
        assert "phone" in response.data
        contact.refresh_from_db()
        assert contact.phone == "+5511988888888"

    def test_delete_deactivates_and_keeps_the_opt_out(self, bob_client, org_a):
        contact = ContactFactory(organization=org_a)
        contact.mark_opted_out(reason="SAIR")
        assert bob_client.delete(f"{URL}{contact.id}/").status_code == 204
        contact.refresh_from_db()
        assert contact.is_active is False
        assert contact.opted_out_at is not None

    def test_permanent_delete_is_for_admins(self, alice_client, bob_client, org_a):
        contact = ContactFactory(organization=org_a)
        assert bob_client.delete(f"{URL}{contact.id}/?permanent=true").status_code == 403
        assert Contact.objects.filter(id=contact.id).exists()
        assert alice_client.delete(f"{URL}{contact.id}/?permanent=true").status_code == 204
        assert not Contact.objects.filter(id=contact.id).exists()

    def test_opt_out_and_opt_in_actions(self, bob_client, org_a):
        contact = ContactFactory(organization=org_a)
        response = bob_client.post(f"{URL}{contact.id}/opt-out/", {"reason": "pediu"}, format="json")
        assert response.status_code == 200
        assert response.data["is_opted_out"] is True
        contact.refresh_from_db()
        assert (contact.opt_out_reason, contact.opt_out_source) == ("pediu", "api")
        assert bob_client.post(f"{URL}{contact.id}/opt-in/").data["is_opted_out"] is False


@pytest.mark.django_db
def test_tags_endpoint_creates_and_rejects_duplicates(alice_client, org_a):
    assert alice_client.post("/api/v1/tags/", {"name": "vip"}, format="json").status_code == 201
    response = alice_client.post("/api/v1/tags/", {"name": "vip"}, format="json")
    assert response.status_code == 400
    assert "name" in response.data
    assert Tag.objects.filter(organization=org_a).count() == 1
