"""Finding 12 of issue 12: the admin's "download the rows not imported" link works, through an
authenticated view that only the import's organization (and superusers) can open."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import Membership
from accounts.services import add_member
from contacts import services

pytestmark = pytest.mark.django_db


def _staff(django_user_model, organization, username):
    user = django_user_model.objects.create_user(username, f"{username}@example.com", "pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="contacts", codename__startswith="view")
    )
    add_member(organization=organization, user=user, role=Membership.Role.OPERATOR)
    client = Client()
    client.force_login(user)
    return client


def test_the_report_link_downloads_the_rows_for_the_imports_organization_only(
    settings, tmp_path, django_user_model, org_a, org_b, alice
):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("lista.csv", b"phone;name\n11999999999;Ana\nbad;Bia\n")
    contact_import = services.contact_import_create(organization=org_a, file=upload, created_by=alice)
    services.contact_import_run(contact_import_id=contact_import.id)
    contact_import.refresh_from_db()
    url = f"/admin/contacts/contactimport/{contact_import.id}/report/"

    olga = _staff(django_user_model, org_a, "olga")
    page = olga.get(f"/admin/contacts/contactimport/{contact_import.id}/change/").content.decode()
    assert f'href="{url}"' in page
    assert contact_import.report.url not in page
    download = olga.get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in download["Content-Disposition"]
    body = b"".join(download.streaming_content).decode()
    assert body.splitlines()[1].startswith("3,phone,")

    # Another organization's staff, and anyone not logged in, get nothing.
    assert _staff(django_user_model, org_b, "carl").get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    # The media URL it used to link to is not served at all.
    assert Client().get(f"/{settings.MEDIA_URL}{contact_import.report.name}").status_code == 404
