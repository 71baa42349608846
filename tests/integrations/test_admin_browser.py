"""An operator connects Pontta from the admin in a real browser: secrets in, a hint out, the connection tested."""

import json

import pytest
from django.contrib.auth.models import Permission

from accounts.models import Membership
from accounts.services import add_member
from integrations.models import Integration
from tests.support.browser import ARGS, CHROMIUM, log_in, needs_chromium

PASSWORD = "browser-pw-4411"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@needs_chromium
@pytest.mark.usefixtures("browser_plumbing")
def test_an_operator_saves_a_pontta_connection_and_tests_it(live_server, org_a, fake_pontta):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect, sync_playwright

    fake_pontta.password = PASSWORD
    operator = get_user_model().objects.create_user("olga", "olga@example.com", "s3cret-pass", is_staff=True)
    operator.user_permissions.set(Permission.objects.filter(content_type__app_label="integrations"))
    add_member(organization=org_a, user=operator, role=Membership.Role.OPERATOR)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(locale="en-US")
        log_in(page, f"{live_server.url}/admin/login/?next=/admin/integrations/integration/add/", "olga")

        page.select_option("#id_organization", str(org_a.id))
        page.select_option("#id_kind", "pontta")
        page.fill("#id_name", "pontta-loja")
        page.fill("#id_settings", json.dumps({"base_url": fake_pontta.url, "business_unit": fake_pontta.business_unit}))
        page.fill("#id_new_secrets", json.dumps({"email": fake_pontta.email, "password": PASSWORD}))
        page.click("[name=_continue]")

        expect(page.locator(".messagelist")).to_contain_text("was added successfully")
        expect(page.locator("#id_new_secrets")).to_have_value("")
        expect(page.locator("#content")).to_contain_text("password=…4411")
        assert PASSWORD not in page.content()

        page.goto(f"{live_server.url}/admin/integrations/integration/")
        integration = Integration.objects.get(name="pontta-loja")
        page.check(f"input[name=_selected_action][value='{integration.id}']")
        page.select_option("select[name=action]", "test_connection")
        page.click("button[name=index]")
        expect(page.locator(".messagelist")).to_contain_text("-loja: Logged in to Pontta.")
        browser.close()

    integration.refresh_from_db()
    assert integration.organization_id == org_a.id and integration.last_test_ok is True
    assert integration.get_secrets() == {"email": fake_pontta.email, "password": PASSWORD}
