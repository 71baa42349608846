"""An operator starts a draft campaign from the admin in a real browser: confirmation, then the execution."""

import pytest
from django.contrib.auth.models import Permission

from accounts.models import Membership
from accounts.services import add_member
from campaigns.models import Campaign, Execution
from tests.factories.campaigns import CampaignFactory
from tests.factories.contacts import ContactFactory
from tests.support.browser import ARGS, CHROMIUM, log_in, needs_chromium


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@needs_chromium
@pytest.mark.usefixtures("browser_plumbing")
def test_an_operator_starts_a_draft_campaign_after_seeing_its_audience(live_server, org_a, org_b):
    _drive_the_admin(live_server, org_a, org_b)


def _drive_the_admin(live_server, org_a, org_b):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect, sync_playwright

    operator = get_user_model().objects.create_user("olga", "olga@example.com", "s3cret-pass", is_staff=True)
    operator.user_permissions.set(Permission.objects.filter(content_type__app_label="campaigns"))
    add_member(organization=org_a, user=operator, role=Membership.Role.OPERATOR)
    campaign = CampaignFactory(organization=org_a, name="Black Friday")
    CampaignFactory(organization=org_a, name="Natal")
    ContactFactory.create_batch(2, organization=org_a)
    ContactFactory(organization=org_b)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(locale="en-US")
        log_in(page, f"{live_server.url}/admin/login/?next=/admin/campaigns/campaign/", "olga")
        expect(page.locator("#result_list")).to_contain_text("Black Friday")

        page.check(f"input[name=_selected_action][value='{campaign.id}']")
        page.select_option("select[name=action]", "start")
        page.click("button[name=index]")
        expect(page.locator("td.audience-size")).to_have_text("2")
        expect(page.locator("#content")).to_contain_text("Black Friday")
        assert not Execution.objects.exists()

        page.click("input[type=submit][value='Yes, start']")
        expect(page.locator(".messagelist")).to_contain_text("Black Friday started: execution #")
        page.click("#result_list a:text('Black Friday')")
        execution = Execution.objects.get()
        inline = page.locator("#executions-group")
        expect(inline).to_contain_text(str(execution.id))
        expect(inline).to_contain_text("Manual")
        expect(inline.locator(f"a[href$='/admin/campaigns/execution/{execution.id}/change/']")).to_have_count(1)
        browser.close()

    assert (execution.campaign_id, execution.triggered_by, execution.total_recipients) == (campaign.id, operator, 2)
    assert set(execution.recipients.values_list("contact__organization", flat=True)) == {org_a.id}
    assert Campaign.objects.get(id=campaign.id).status in (Campaign.Status.ACTIVE, Campaign.Status.COMPLETED)
    assert Campaign.objects.get(name="Natal").status == Campaign.Status.DRAFT
