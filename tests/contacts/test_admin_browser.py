"""The operator's path in a real browser: log in, upload a CSV, see the result and the contacts."""

import pytest
from django.contrib.auth.models import Permission

from accounts.models import Membership
from accounts.services import add_member
from contacts.models import Contact, ContactImport
from tests.support.browser import ARGS, CHROMIUM, log_in, needs_chromium


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@needs_chromium
@pytest.mark.usefixtures("browser_plumbing")
def test_an_operator_uploads_a_csv_and_sees_the_contacts(live_server, settings, tmp_path, org_a, org_b):
    _drive_the_admin(live_server, settings, tmp_path, org_a)


def _drive_the_admin(live_server, settings, tmp_path, org_a):
    from playwright.sync_api import expect, sync_playwright

    settings.MEDIA_ROOT = tmp_path / "media"
    from django.contrib.auth import get_user_model

    operator = get_user_model().objects.create_user("olga", "olga@example.com", "s3cret-pass", is_staff=True)
    operator.user_permissions.set(
        Permission.objects.filter(content_type__app_label="contacts").exclude(codename__startswith="delete")
    )
    add_member(organization=org_a, user=operator, role=Membership.Role.OPERATOR)
    csv_path = tmp_path / "clientes.csv"
    csv_path.write_bytes(
        "telefone;nome;cidade\n11 99999-9999;João;Santos\n(21) 3333-4444;Bia;Rio\n123;Ruim;X\n".encode("cp1252")
    )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(locale="en-US")
        log_in(page, f"{live_server.url}/admin/login/?next=/admin/contacts/contact/", "olga")
        page.click("a[href$='/admin/contacts/contactimport/add/']")
        page.select_option("#id_organization", str(org_a.id))
        page.set_input_files("#id_file", str(csv_path))
        page.fill("#id_tag", "planilha")
        page.click("[name=_save]")
        expect(page.locator(".field-status")).to_contain_text("Done")
        expect(page.locator(".field-created_count")).to_contain_text("2")
        expect(page.locator(".field-invalid_count")).to_contain_text("1")
        page.goto(f"{live_server.url}/admin/contacts/contact/")
        expect(page.locator("#result_list")).to_contain_text("+5511999999999")
        expect(page.locator("#result_list")).to_contain_text("João")
        expect(page.locator("#result_list")).to_contain_text("+552133334444")
        browser.close()

    contact_import = ContactImport.objects.get()
    assert (contact_import.status, contact_import.created_by) == (ContactImport.Status.DONE, operator)
    assert set(Contact.objects.filter(organization=org_a, tags__name="planilha").values_list("name", flat=True)) == {
        "João",
        "Bia",
    }
