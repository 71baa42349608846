import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts import services
from contacts.models import Contact, ContactImport


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
