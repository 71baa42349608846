import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts import demo, services
from contacts.models import Contact, ContactImport, Tag
from tests.factories.contacts import ContactFactory


@pytest.mark.django_db
def test_demo_seed_is_idempotent(org_a):
    demo.seed(org_a)
    demo.seed(org_a)
    contacts = Contact.objects.filter(organization=org_a)
    assert contacts.count() == 20
    assert contacts.filter(tags__name="vip").count() == 5
    assert all(c.custom_fields.get("cidade") for c in contacts)
    assert set(Tag.objects.filter(organization=org_a).values_list("name", flat=True)) == {
        "vip",
        "cliente",
        "lead",
        "demo",
    }


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_an_upload_runs_on_commit_and_records_the_result(org_a, alice, media, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("lista.csv", "phone;name\n11999999999;Ana\nbad;Bia\n".encode("latin-1"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        contact_import = services.contact_import_create(organization=org_a, file=upload, created_by=alice, tag="lista")
    assert contact_import.status == ContactImport.Status.PENDING
    assert len(callbacks) == 1
    assert services.contact_import_run(contact_import_id=contact_import.id).status == ContactImport.Status.DONE
    contact_import.refresh_from_db()
    assert (contact_import.total_rows, contact_import.created_count, contact_import.invalid_count) == (2, 1, 1)
    report = contact_import.report.read().decode()
    assert report.splitlines()[1].startswith("3,phone,")
    assert Contact.objects.get(organization=org_a).tags.get().name == "lista"
    # Running it again changes nothing: the row is no longer PENDING.
    assert services.contact_import_run(contact_import_id=contact_import.id) is None


@pytest.mark.django_db
def test_a_file_without_a_phone_column_fails_with_the_reason(org_a, media):
    upload = SimpleUploadedFile("x.csv", b"nome,email\nAna,a@b.com\n")
    contact_import = ContactImport.objects.create(organization=org_a, file=upload)
    services.contact_import_run(contact_import_id=contact_import.id)
    contact_import.refresh_from_db()
    assert contact_import.status == ContactImport.Status.FAILED
    assert "phone column" in contact_import.error


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
