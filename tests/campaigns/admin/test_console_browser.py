"""Every back-office page in Chromium, in pt-BR, without a script error: the dashboard, each of our lists, the
change page of each list's first row, each add page, and the pages of our own (campaign, execution,
dispatch, simulate, connect, a schedule's calendar, the start confirmation). A JS error on one of our
pages (an uncaught exception, a console error, a request of the page answered 4xx/5xx) fails the test
naming the page; so does a page that is not 200."""

import io
import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization
from campaigns.models import Campaign, Recipient
from campaigns.schedules import services as schedules
from flows.models import Flow
from instances.models import WhatsAppInstance
from tests.support.browser import ARGS, CHROMIUM, log_in, needs_chromium
from tests.support.campaign_admin import execution_with

THIRD_PARTY = {"auth", "axes", "django_celery_beat"}


def _seed(monkeypatch):
    """`manage.py seed_demo`'s data (organization, admin, contacts, flows, the sandbox, a campaign), an
    execution with sends in the last hour, and a schedule."""
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "s3cret-pass")
    call_command("seed_demo", stdout=io.StringIO())
    organization = Organization.objects.get(slug="demo")
    campaign = Campaign.objects.filter(organization=organization).first()
    execution = execution_with(organization, campaign, ["sent", "read", "failed", "pending"])
    Recipient.objects.filter(execution=execution).exclude(status="pending").update(sent_at=timezone.now())
    tomorrow = timezone.localdate() + timedelta(days=1)
    schedule = schedules.create_schedule(
        campaign=campaign,
        data={
            "recurrence_type": "cron",
            "start_date": tomorrow.isoformat(),
            "start_time": "00:00:00",
            "recurrence_config": {"expression": "0 9 * * MON-FRI"},
            "execution_timezone": "America/Sao_Paulo",
        },
    )
    flow = Flow.objects.filter(template__organization=organization).first()
    sandbox = WhatsAppInstance.objects.get(organization=organization, provider="sandbox")
    return {
        "campaign": reverse("admin:campaigns_campaign_change", args=[campaign.id]),
        "execution": reverse("admin:campaigns_execution_change", args=[execution.id]),
        "dispatch": reverse("admin:campaigns_dispatch_list") + f"?flow={flow.id}",
        "simulate": reverse("admin:flows_flow_simulate", args=[flow.id]),
        "connect": reverse("admin:instances_whatsappinstance_connect", args=[sandbox.id]),
        "calendar": reverse("admin:campaigns_schedule_calendar", args=[schedule.id]),
    }


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@needs_chromium
@pytest.mark.usefixtures("browser_plumbing")
def test_every_back_office_page_opens_without_a_script_error(live_server, settings, monkeypatch):
    settings.ADMIN_POLL_SECONDS = 1
    _visit_every_page(live_server, _seed(monkeypatch))


def _visit_every_page(live_server, ours):
    from playwright.sync_api import sync_playwright

    ours_first = list(ours.values())
    # Our apps' lists (the beat's, the lockout's and Django's auth pages are the libraries' own).
    lists = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label not in THIRD_PARTY
    ]
    problems = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            locale="pt-BR",
            timezone_id="America/Sao_Paulo",
            extra_http_headers={"Accept-Language": "pt-br"},
            viewport={"width": 1400, "height": 900},
        )
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
        page.on(
            "console", lambda message: errors.append(f"console: {message.text}") if message.type == "error" else None
        )
        page.on("response", lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)

        log_in(page, f"{live_server.url}/admin/login/", "admin")
        page.wait_for_url(f"{live_server.url}/admin/")

        def visit(path, *, may_refuse=False):
            errors.clear()
            response = page.goto(f"{live_server.url}{path}", wait_until="networkidle")
            if may_refuse and response.status == 403:  # a list without an add page (read-only rows)
                return
            if response.status != 200 or errors:
                problems.append((path, response.status, list(errors)))

        visit("/admin/")
        for path in ours_first:
            visit(path)
            page.wait_for_timeout(1200)  # a live page's next poll too
        for path in lists:
            visit(path)
            rows = page.eval_on_selector_all("#result_list tbody a[href]", "links => links.map(a => a.pathname)")
            change = next((row for row in rows if re.fullmatch(r"/admin/\w+/\w+/\d+/change/", row)), None)
            if change:
                visit(change)
            visit(path + "add/", may_refuse=True)

        # The start confirmation, from the campaign page's button.
        visit(ours["campaign"])
        page.click("#wf-campaign >> text=Iniciar…")
        page.wait_for_load_state("networkidle")
        assert page.locator("#wf-action-title").inner_text() == "Iniciar campanhas?"
        assert not errors, errors
        browser.close()
    assert problems == [], "\n".join(f"{path} ({status}): {found}" for path, status, found in problems)
