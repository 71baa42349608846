"""The back-office in a real browser: log in, import a CSV, dispatch a flow to a pasted list through the
sandbox, watch the execution's progress and funnel move without a reload, open the dashboard, the
campaign page and a schedule's calendar. Screenshots of each page go to var/screenshots/ (a test
artifact, ignored by git)."""

import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings

from campaigns.models import Campaign, Execution, Recipient
from contacts.models import Contact
from instances.models import SandboxMessage, WhatsAppInstance
from instances.providers.sandbox import play_event
from tests.factories.campaigns import make_flow
from tests.support.browser import ARGS, CHROMIUM, log_in, needs_chromium

SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@needs_chromium
@pytest.mark.usefixtures("browser_plumbing")
def test_an_operator_dispatches_a_flow_to_a_pasted_list_and_watches_it(live_server, settings, tmp_path, org_a):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ADMIN_POLL_SECONDS = 1
    _drive_the_back_office(live_server, tmp_path, org_a)


def _drive_the_back_office(live_server, tmp_path, org_a):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    get_user_model().objects.create_superuser("root", "root@example.com", "s3cret-pass")
    flow = make_flow(org_a, "Olá {{customer_name}}, seu desconto é {{discount}}")
    # Playback off: the test plays the provider's delivered/read webhooks itself, once the page is open.
    sandbox = WhatsAppInstance.objects.create(
        organization=org_a, name="Sandbox", provider="sandbox", connection_state="open"
    )
    csv_path = tmp_path / "clientes.csv"
    csv_path.write_text("telefone;nome\n11 98888-0001;Ana\n11 98888-0002;Beto\n", encoding="utf-8")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 1000})
        log_in(page, f"{live_server.url}/")
        expect(page.locator("#wf-dashboard")).to_be_visible()

        # Import a small CSV.
        page.goto(f"{live_server.url}/admin/contacts/contactimport/add/")
        page.select_option("#id_organization", str(org_a.id))
        page.set_input_files("#id_file", str(csv_path))
        page.click("[name=_save]")
        page.screenshot(path=str(SCREENSHOTS / "import.png"), full_page=True)
        expect(page.locator(".field-created_count")).to_contain_text("2")

        # Dispatch the flow to a pasted list: preview first (nothing saved), then start.
        page.goto(f"{live_server.url}/admin/campaigns/campaign/dispatch/?flow={flow.id}")
        page.fill("#id_numbers", "telefone,nome\n11 98888-0001,Ana\n(21) 97777-0003,Caio\n123,Ruim\n")
        page.check(f"#wf-dispatch-instances input[value='{sandbox.id}']")
        page.click("button[name=preview]")
        expect(page.locator("#wf-preview-counts .wf-valid")).to_have_text("2")
        expect(page.locator("#wf-preview-counts .wf-invalid")).to_have_text("1")
        expect(page.locator("#wf-preview-errors")).to_contain_text("123")
        assert not Campaign.objects.exists() and Contact.objects.filter(organization=org_a).count() == 2
        page.select_option("select[name=map_customer_name]", "nome")
        page.select_option("select[name=map_discount]", "__fixed__")
        page.fill("input[name=fixed_discount]", "10%")
        page.screenshot(path=str(SCREENSHOTS / "dispatch.png"), full_page=True)
        page.click("button[name=start]")

        # The execution page: the progress bar reaches 100%, then delivered/read arrive without a reload.
        expect(page.locator("#wf-execution")).to_be_visible()
        execution = Execution.objects.get()
        expect(page.locator("#wf-execution-progress [role=progressbar]")).to_have_attribute(
            "aria-valuenow", "100", timeout=20_000
        )
        expect(page.locator("#wf-execution-funnel [data-step=delivered] .wf-count")).to_have_text("0")
        marker = page.evaluate("window.wfNoReload = Math.random()")
        for message in SandboxMessage.objects.filter(instance=sandbox):
            play_event(message_id=message.id, event="delivered")
        expect(page.locator("#wf-execution-funnel [data-step=delivered] .wf-count")).to_have_text("2", timeout=15_000)
        for message in SandboxMessage.objects.filter(instance=sandbox):
            play_event(message_id=message.id, event="read")
        expect(page.locator("#wf-execution-funnel [data-step=read] .wf-count")).to_have_text("2", timeout=15_000)
        assert page.evaluate("window.wfNoReload") == marker, "the page reloaded"
        expect(page.locator("#wf-execution-counts tr[data-status=read] .wf-count")).to_have_text("2")
        assert page.locator("[name=_save]").count() == 0
        page.screenshot(path=str(SCREENSHOTS / "execution.png"), full_page=True)

        # The campaign page: funnel, sends per hour, the execution with its progress.
        page.goto(f"{live_server.url}/admin/campaigns/campaign/{execution.campaign_id}/change/")
        expect(page.locator("#wf-funnel [data-step=read] .wf-count")).to_have_text("2")
        expect(page.locator(f"#wf-campaign-executions tr[data-execution='{execution.id}']")).to_contain_text("2/2")
        page.screenshot(path=str(SCREENSHOTS / "campaign.png"), full_page=True)

        # The dashboard.
        page.goto(f"{live_server.url}/admin/")
        expect(page.locator("#wf-instances")).to_contain_text("Sandbox")
        page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

        # The schedule calendar: weekdays at nine for the next three months, holidays skipped with their name.
        from campaigns.schedules import services as schedules

        schedule = schedules.create_schedule(
            campaign=execution.campaign,
            data={
                "recurrence_type": "cron",
                "start_date": "2026-11-02",
                "start_time": "00:00:00",
                "recurrence_config": {"expression": "0 9 * * MON-FRI"},
                "execution_timezone": "America/Sao_Paulo",
                "skip_holidays": True,
            },
        )
        with time_machine.travel("2026-11-10T12:00:00Z", tick=False):
            page.goto(f"{live_server.url}/admin/campaigns/schedule/{schedule.id}/calendar/")
            expect(page.locator("table.month")).to_have_count(3)
            november = page.locator("table.month[data-month='2026-11']")
            expect(november.locator("td[data-date='2026-11-11'] .mark.scheduled")).to_have_text("09:00")
            expect(november.locator("td[data-date='2026-11-14'] .mark")).to_have_count(0)  # a Saturday
            holiday = november.locator("td[data-date='2026-11-20'] .mark.skipped")
            expect(holiday).to_have_attribute("title", re.compile("Black Awareness"))
            expect(page.locator("#wf-calendar-title")).to_contain_text("Calendar of")
            page.screenshot(path=str(SCREENSHOTS / "calendar.png"), full_page=True)

        page.goto(f"{live_server.url}/admin/campaigns/recipient/")
        expect(page.locator("#result_list")).to_contain_text("+5521977770003")
        page.screenshot(path=str(SCREENSHOTS / "recipients.png"), full_page=True)
        browser.close()

    recipients = Recipient.objects.filter(execution=execution)
    assert sorted(recipients.values_list("phone", flat=True)) == ["+5511988880001", "+5521977770003"]
    assert set(recipients.values_list("status", flat=True)) == {"read"}
    assert sorted(r.variables["customer_name"] for r in recipients) == ["Ana", "Caio"]
    assert {r.variables["discount"] for r in recipients} == {"10%"}
