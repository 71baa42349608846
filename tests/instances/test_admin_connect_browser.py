"""The QR login page in a real browser: a code Evolution pushes as a `qrcode.updated` webhook
replaces the one on screen without a reload, and a `connection.update` open webhook makes the
page say connected. The fake Evolution answers `connecting` throughout, so only the webhooks
can change what the page shows. Screenshots go to var/screenshots/ (ignored by git)."""

import json
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from instances.models import WhatsAppInstance
from tests.factories.instances import EvolutionInstanceFactory
from tests.support.browser import ARGS, CHROMIUM, log_in, needs_chromium
from tests.support.fakes.provider_server import FAKE_QR

SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "evolution" / "v2"
# A 2x2 black PNG: another code than the fake's `instance/connect` answer.
PUSHED = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAC0lEQVR4nGNgQAYAAA4AAamRc7EAAAAASUVORK5CYII="
)


def post_webhook(live_server, instance, fixture: str, **data) -> dict:
    """POST a captured Evolution payload to the real endpoint, over HTTP."""
    payload = json.loads((FIXTURES / fixture).read_text())
    payload["instance"] = instance.instance_name
    for name, value in data.items():
        payload["data"][name] = value
    request = urllib.request.Request(
        f"{live_server.url}/api/webhooks/evolution/{instance.webhook_secret}/",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@needs_chromium
@pytest.mark.usefixtures("browser_plumbing")
def test_the_connect_page_shows_pushed_codes_until_a_webhook_says_open(live_server, settings, org_a, fake_provider):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect, sync_playwright

    settings.ADMIN_POLL_SECONDS = 1
    settings.PUBLIC_BASE_URL = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    get_user_model().objects.create_superuser("root", "root@example.com", "s3cret-pass")
    fake_provider.respond("GET", r"/instance/connectionState/", json={"instance": {"state": "connecting"}})
    instance = EvolutionInstanceFactory(
        organization=org_a, base_url=fake_provider.url, instance_name="loja-centro", connection_state="close"
    )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(locale="en-US", viewport={"width": 1200, "height": 900})
        log_in(page, f"{live_server.url}/")

        page.goto(f"{live_server.url}/admin/instances/whatsappinstance/{instance.id}/connect/")
        qr = page.locator("#wf-qr")
        expect(qr).to_have_attribute("src", FAKE_QR)
        expect(page.locator("#wf-qr-state")).to_have_text("Connecting", timeout=10_000)
        page.evaluate("window.wfNotReloaded = true")

        # Evolution pushes a new code (with a pairing code): the page shows it, without a reload.
        answer = post_webhook(
            live_server, instance, "qrcode_updated.json", qrcode={"base64": PUSHED, "pairingCode": "WZYEH1YY"}
        )
        assert answer == {"status": "kept"}
        expect(qr).to_have_attribute("src", PUSHED, timeout=10_000)
        expect(qr).to_be_visible()
        expect(page.locator("#wf-qr-pairing-code")).to_have_text("WZYEH1YY")
        assert page.evaluate("qr => qr.complete && qr.naturalWidth", qr.element_handle()) == 2
        page.screenshot(path=str(SCREENSHOTS / "connect_pushed_qr.png"), full_page=True)

        # Scanned: Evolution posts connection.update open; the page says connected and hides the code.
        assert post_webhook(live_server, instance, "connection_update_open.json")["status"] in ("accepted", "open")
        expect(page.locator("#wf-qr-done")).to_be_visible(timeout=10_000)
        expect(page.locator("#wf-qr-state")).to_have_text("Open")
        expect(qr).to_be_hidden()
        expect(page.locator("#wf-qr-pairing")).to_be_hidden()
        assert page.evaluate("window.wfNotReloaded") is True
        page.screenshot(path=str(SCREENSHOTS / "connect_open.png"), full_page=True)
        browser.close()

    instance.refresh_from_db()
    assert instance.connection_state == WhatsAppInstance.ConnectionState.OPEN
