"""Forms without JSON, in a real browser: the campaign's audience and variables, a subflow's keywords."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from campaigns.models import Campaign
from flows.models import Subflow
from tests.browser import ARGS, CHROMIUM, needs_chromium
from tests.factories.campaigns import CampaignFactory, make_flow
from tests.factories.contacts import ContactFactory, TagFactory

SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@needs_chromium
@pytest.mark.usefixtures("browser_plumbing")
def test_an_operator_edits_audience_variables_and_keywords_without_json(live_server, org_a):
    _drive(live_server, org_a)


def _drive(live_server, org_a):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    get_user_model().objects.create_superuser("root", "root@example.com", "s3cret-pass")
    flow = make_flow(org_a)
    campaign = CampaignFactory(organization=org_a, flow=flow, name="Editores", variable_mapping={})
    TagFactory(organization=org_a, name="vip")
    TagFactory(organization=org_a, name="sp")
    ana = ContactFactory(organization=org_a, name="Ana Souza", custom_fields={"cidade": "Santos"})
    subflow = Subflow.objects.get(flow=flow)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 1000})
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "root")
        page.fill("#id_password", "s3cret-pass")
        page.click("[type=submit]")

        page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.id}/change/")
        # The variables the flow uses are offered as rows; sources include the custom fields seen.
        mapping = page.locator("[data-wf-editor=mapping]")
        expect(mapping.locator("input.wf-var")).to_have_count(2)
        mapping.locator("tr[data-i='0'] select.wf-src").select_option("{{contact.name}}")
        mapping.locator("tr[data-i='1'] select.wf-src").select_option("__fixed__")
        mapping.locator("tr[data-i='1'] input.wf-fixed").fill("15%")
        city = "option[value='{{contact.custom_fields.cidade}}']"
        expect(mapping.locator(f"tr[data-i='0'] select.wf-src {city}")).to_have_count(1)

        # Tags as a multi-select.
        page.select_option("#id_audience_type", "tags")
        audience = page.locator("[data-wf-editor=audience]")
        audience.locator("input[type=checkbox][value=vip]").check()
        audience.locator("select.wf-match").select_option("all")
        page.screenshot(path=str(SCREENSHOTS / "campaign_form.png"), full_page=True)
        page.click("[name=_continue]")
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
        campaign.refresh_from_db()
        assert campaign.variable_mapping == {"customer_name": "{{contact.name}}", "discount": "15%"}
        assert (campaign.audience_type, campaign.audience_config) == ("tags", {"tags": ["vip"], "match": "all"})

        # Chosen contacts by search.
        page.select_option("#id_audience_type", "custom")
        audience.locator("input.wf-search").fill("Ana")
        audience.locator(f".wf-results div[data-id='{ana.id}']").click()
        expect(audience.locator(".wf-chip")).to_contain_text("Ana Souza")
        page.click("[name=_continue]")
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
        campaign.refresh_from_db()
        assert campaign.audience_config == {"contact_ids": [ana.id]}

        # A segment as rows of field / operator / value.
        page.select_option("#id_audience_type", "segment")
        audience.locator(".wf-add").click()
        audience.locator("tr[data-i='0'] select.wf-f").select_option("custom_fields.cidade")
        audience.locator("tr[data-i='0'] select.wf-o").select_option("eq")
        audience.locator("tr[data-i='0'] input.wf-v").fill("Santos")
        page.click("[name=_continue]")
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
        campaign.refresh_from_db()
        condition = {"field": "custom_fields.cidade", "op": "eq", "value": "Santos"}
        assert campaign.audience_config == {"segment": {"all": [condition]}}

        # Trigger keywords as tags, on the subflow's page.
        page.goto(f"{live_server.url}/admin/flows/subflow/{subflow.id}/change/")
        keywords = page.locator("[data-wf-editor=tags]").first
        keywords.locator("input[type=text]").fill("preço")
        keywords.locator("input[type=text]").press("Enter")
        keywords.locator("input[type=text]").fill("valor, quanto")
        keywords.locator("input[type=text]").press("Enter")
        expect(keywords.locator(".wf-chip")).to_have_count(3)
        page.click("[name=_continue]")
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

        # The flow's page shows its tree.
        page.goto(f"{live_server.url}/admin/flows/flow/{flow.id}/change/")
        expect(page.locator("#wf-flow-tree")).to_contain_text("preço")
        expect(page.locator("#wf-flow-tree")).to_contain_text("waits for a reply")
        page.screenshot(path=str(SCREENSHOTS / "flow.png"), full_page=True)
        browser.close()

    subflow.refresh_from_db()
    assert subflow.trigger_keywords == ["preço", "valor", "quanto"]
    assert Campaign.objects.count() == 1
