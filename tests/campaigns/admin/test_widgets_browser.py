"""Forms without JSON, in a real browser: the campaign's audience, variables and trigger, a subflow's
keywords; the flow's tree beside its form."""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings

from campaigns import windows
from campaigns.models import Campaign, Schedule
from flows.models import Subflow
from tests.factories.campaigns import CampaignFactory, make_flow
from tests.factories.contacts import ContactFactory, TagFactory
from tests.support.browser import ARGS, CHROMIUM, log_in, needs_chromium

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
        log_in(page, f"{live_server.url}/admin/login/")

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

        # The flow's page shows its tree: beside the form on a wide screen, sticky as the form scrolls.
        page.goto(f"{live_server.url}/admin/flows/flow/{flow.id}/change/")
        tree, form = page.locator("#wf-flow-tree"), page.locator("#flow_form")
        expect(tree).to_contain_text("preço")
        expect(tree).to_contain_text("waits for a reply")
        beside, left = tree.bounding_box(), form.bounding_box()
        assert beside["x"] >= left["x"] + left["width"], (beside, left)
        assert beside["y"] < left["y"] + left["height"] and left["y"] < beside["y"] + beside["height"]
        page.screenshot(path=str(SCREENSHOTS / "flow.png"), full_page=True)
        page.set_viewport_size({"width": 1400, "height": 500})
        page.mouse.wheel(0, 300)
        page.wait_for_function("window.scrollY >= 300")
        assert tree.bounding_box()["y"] == 16  # stuck 1rem from the top while the form scrolls by
        assert page.evaluate("getComputedStyle(document.getElementById('wf-flow-tree')).overflowY") == "auto"

        # On a narrow screen it stacks above the form.
        page.set_viewport_size({"width": 800, "height": 1000})
        page.goto(f"{live_server.url}/admin/flows/flow/{flow.id}/change/")
        above, below = tree.bounding_box(), form.bounding_box()
        assert above["y"] + above["height"] <= below["y"], (above, below)
        page.screenshot(path=str(SCREENSHOTS / "flow_narrow.png"), full_page=True)
        browser.close()

    subflow.refresh_from_db()
    assert subflow.trigger_keywords == ["preço", "valor", "quanto"]
    assert Campaign.objects.count() == 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@needs_chromium
@pytest.mark.usefixtures("browser_plumbing")
def test_an_operator_sets_the_campaigns_trigger_without_json(live_server, org_a):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    get_user_model().objects.create_superuser("root", "root@example.com", "s3cret-pass")
    campaign = CampaignFactory(organization=org_a, name="Gatilhos", trigger_config={"note": "kept"})
    ContactFactory(organization=org_a)
    url = f"{live_server.url}/admin/campaigns/campaign/{campaign.id}/change/"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 1000})
        log_in(page, f"{live_server.url}/admin/login/")
        page.goto(url)
        editor = page.locator("[data-wf-editor=trigger]")
        expect(editor).to_contain_text("Started by an operator or the API")

        # A webhook: the event's name, and how to post it.
        page.select_option("#id_trigger_type", "webhook")
        editor.locator("input.wf-event").fill("payment.overdue")
        expect(editor.locator(".wf-event-example")).to_contain_text('"event": "payment.overdue"')
        expect(editor.locator(".wf-event-example")).to_contain_text("POST /api/v1/events")
        page.locator("fieldset", has=page.locator("#id_trigger_type")).screenshot(
            path=str(SCREENSHOTS / "campaign_trigger_webhook.png")
        )

        # Cron: the expression in words and its next runs, from the schedule calculator.
        page.select_option("#id_trigger_type", "cron")
        editor.locator("input.wf-cron").fill("0 9 * * MON-FRI")
        expect(editor.locator(".wf-cron-preview")).to_contain_text("At 09:00, Monday through Friday")
        expect(editor.locator(".wf-cron-preview")).to_contain_text("next runs: ")
        editor.locator("input.wf-cron").fill("0 9 * * MON-FRIDAY")
        expect(editor.locator(".wf-cron-preview.wf-invalid")).not_to_be_empty()
        editor.locator("input.wf-cron").fill("0 9 * * MON-FRI")
        expect(editor.locator(".wf-cron-preview")).to_contain_text("Monday through Friday")
        when = page.locator("fieldset", has=page.locator("#id_trigger_type"))
        when.screenshot(path=str(SCREENSHOTS / "campaign_trigger_cron.png"))
        page.click("[name=_continue]")
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
        campaign.refresh_from_db()
        assert (campaign.trigger_type, campaign.trigger_config) == (
            "cron",
            {"note": "kept", "expression": "0 9 * * MON-FRI"},
        )
        schedule = Schedule.objects.get(campaign=campaign)
        assert schedule.recurrence_config["expression"] == "0 9 * * MON-FRI"
        # The page now shows the campaign's schedule, and the editor the saved expression.
        expect(page.locator("#schedule-group .field-upcoming").first).to_contain_text("At 09:00, Monday through Friday")
        expect(editor.locator("input.wf-cron")).to_have_value("0 9 * * MON-FRI")

        # Scheduled: a date and time, local to the campaign's time zone.
        local = (windows.now() + timedelta(days=30)).astimezone(ZoneInfo("America/Sao_Paulo"))
        at = local.replace(hour=9, minute=30, second=0, microsecond=0)
        page.select_option("#id_trigger_type", "scheduled")
        expect(editor).to_contain_text("local time in America/Sao_Paulo")
        editor.locator("input.wf-at").fill(at.strftime("%Y-%m-%dT%H:%M"))
        when.screenshot(path=str(SCREENSHOTS / "campaign_trigger_scheduled.png"))
        page.click("[name=_continue]")
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
        campaign.refresh_from_db()
        assert campaign.trigger_config == {"note": "kept", "scheduled_at": at.strftime("%Y-%m-%dT%H:%M:00")}
        schedule.refresh_from_db()
        assert (schedule.recurrence_type, schedule.next_scheduled_at) == ("once", at)
        expect(editor.locator("input.wf-at")).to_have_value(at.strftime("%Y-%m-%dT%H:%M"))

        # A time already past is refused on the trigger field, naming it.
        page.select_option("#id_trigger_type", "scheduled")
        editor.locator("input.wf-at").fill("2020-01-06T09:00")
        page.click("[name=_continue]")
        expect(page.locator(".field-trigger_config")).to_contain_text(
            "trigger_config.scheduled_at: Must be in the future."
        )

        # A time the API stored with an offset shows as the campaign's local time.
        Campaign.objects.filter(id=campaign.id).update(trigger_config={"scheduled_at": "2030-01-07T12:00:00Z"})
        page.goto(url)
        expect(editor.locator("input.wf-at")).to_have_value("2030-01-07T09:00")
        browser.close()

    assert Schedule.objects.get(campaign=campaign).next_scheduled_at == at  # the refused save changed nothing
