"""Connecting an Evolution number from the admin (webhook, QR code until open) and its health history."""

from datetime import date

import pytest
from django.urls import reverse

from instances import counters, qr_codes, services
from instances.models import InstanceDay, WhatsAppInstance
from tests.factories.instances import EvolutionInstanceFactory, WhatsAppInstanceFactory
from tests.support.fakes.provider_server import FAKE_QR

pytestmark = pytest.mark.django_db


def test_connect_configures_the_webhook_and_shows_the_qr_until_open(admin_client, org_a, fake_provider, settings):
    settings.PUBLIC_BASE_URL = "https://whatsflow.example.com"
    instance = EvolutionInstanceFactory(
        organization=org_a, base_url=fake_provider.url, instance_name="loja-qr", connection_state="close"
    )
    change = admin_client.get(reverse("admin:instances_whatsappinstance_change", args=[instance.id]))
    connect_url = reverse("admin:instances_whatsappinstance_connect", args=[instance.id])
    assert connect_url in change.content.decode()

    # Not logged in yet: the state answers "close" and each poll may bring a fresh code.
    fake_provider.respond("GET", r"/instance/connectionState/", json={"instance": {"state": "close"}}, times=1)
    page = admin_client.get(connect_url)

    assert page.status_code == 200
    assert [r.path for r in fake_provider.requests] == ["/webhook/set/loja-qr", "/instance/connect/loja-qr"]
    assert fake_provider.requests[0].json["webhook"]["url"].endswith(f"/evolution/{instance.webhook_secret}/")
    assert f'src="{FAKE_QR}"' in page.content.decode()
    status_url = reverse("admin:instances_whatsappinstance_connect_status", args=[instance.id])
    waiting = admin_client.get(status_url).json()
    assert (waiting["state"], waiting["qr"]) == ("close", FAKE_QR)

    # Scanned: the state is open, no QR any more, and the instance row says so.
    done = admin_client.get(status_url).json()
    assert (done["state"], done["qr"]) == ("open", "")
    instance.refresh_from_db()
    assert instance.connection_state == WhatsAppInstance.ConnectionState.OPEN


def test_connect_reports_a_provider_that_cannot_be_reached(admin_client, org_a, closed_port):
    instance = EvolutionInstanceFactory(organization=org_a, base_url=f"http://127.0.0.1:{closed_port}")
    page = admin_client.get(reverse("admin:instances_whatsappinstance_connect", args=[instance.id]))
    assert page.status_code == 200 and 'id="wf-qr-error"' in page.content.decode()
    status = admin_client.get(reverse("admin:instances_whatsappinstance_connect_status", args=[instance.id]))
    assert status.status_code == 502


def test_only_evolution_numbers_offer_to_connect(admin_client, org_a):
    sandbox = WhatsAppInstanceFactory(organization=org_a)
    change = admin_client.get(reverse("admin:instances_whatsappinstance_change", args=[sandbox.id]))
    assert "/connect/" not in change.content.decode()


def test_each_flush_keeps_the_days_counters_and_health(org_a, admin_client):
    instance = WhatsAppInstanceFactory(organization=org_a)
    counters.apply_deltas(instance_id=instance.id, deltas={"sent": 10, "delivered": 8, "failed": 2})
    counters.apply_deltas(instance_id=instance.id, deltas={"sent": 5, "read": 4})

    instance.refresh_from_db()
    (day,) = InstanceDay.objects.filter(instance=instance)
    assert day.day == instance.counters_date and isinstance(day.day, date)
    assert (day.sent, day.delivered, day.read, day.failed) == (15, 8, 4, 2)
    assert day.health_score == instance.health_score

    page = admin_client.get(reverse("admin:instances_whatsappinstance_change", args=[instance.id]))
    assert [d["sent"] for d in page.context["health_days"]] == [15]
    assert 'id="wf-health-chart"' in page.content.decode()


# A 2x2 black PNG: another code than the fake's `instance/connect` answer.
PUSHED = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAC0lEQVR4nGNgQAYAAA4AAamRc7EAAAAASUVORK5CYII="
)


@pytest.fixture
def provider_state(fake_provider):
    """What the fake Evolution answers `instance/connectionState` (a test changes it)."""
    state = {"state": "connecting"}
    fake_provider.respond(
        "GET", r"/instance/connectionState/", handler=lambda request: (200, {"instance": dict(state)})
    )
    return state


@pytest.fixture
def connecting(org_a, fake_provider, provider_state):
    """An Evolution number whose QR login is under way: Evolution answers `connecting`."""
    return EvolutionInstanceFactory(
        organization=org_a, base_url=fake_provider.url, instance_name="loja-qr", connection_state="connecting"
    )


def status(admin_client, instance, **params):
    url = reverse("admin:instances_whatsappinstance_connect_status", args=[instance.id])
    return admin_client.get(url, params)


def connect_requests(fake_provider) -> int:
    return sum(r.path.startswith("/instance/connect/") for r in fake_provider.requests)


def test_the_status_sends_a_pushed_code_newer_than_the_pages(admin_client, connecting, fake_provider):
    page = admin_client.get(reverse("admin:instances_whatsappinstance_connect", args=[connecting.id]))
    since = page.context["qr"].at
    assert status(admin_client, connecting, since=since).json()["qr"] == ""  # nothing newer yet

    pushed = qr_codes.keep_pushed(instance_id=connecting.id, qr=PUSHED, pairing_code="WZYEH1YY")
    answer = status(admin_client, connecting, since=since).json()

    assert (answer["state"], answer["qr"], answer["pairing_code"]) == ("connecting", PUSHED, "WZYEH1YY")
    assert answer["qr_at"] == pushed.at > since
    # The page has it now: the next poll sends no code.
    assert status(admin_client, connecting, since=answer["qr_at"]).json()["qr"] == ""


def test_a_fresh_pushed_code_spares_asking_instance_connect(admin_client, connecting, fake_provider):
    qr_codes.keep_pushed(instance_id=connecting.id, qr=PUSHED)

    answer = status(admin_client, connecting).json()

    assert answer["qr"] == PUSHED
    assert connect_requests(fake_provider) == 0


def test_without_a_pushed_code_it_asks_instance_connect(admin_client, connecting, fake_provider):
    answer = status(admin_client, connecting).json()

    assert answer["qr"] == FAKE_QR
    assert connect_requests(fake_provider) == 1


def test_a_code_older_than_the_pages_is_not_sent(admin_client, connecting, fake_provider):
    pushed = qr_codes.keep_pushed(instance_id=connecting.id, qr=PUSHED)

    answer = status(admin_client, connecting, since=pushed.at + 1).json()

    assert answer["qr"] == "" and answer["qr_at"] == pushed.at


def test_once_open_no_code_is_sent_and_the_kept_ones_are_forgotten(admin_client, connecting, provider_state):
    qr_codes.keep_pushed(instance_id=connecting.id, qr=PUSHED)
    provider_state["state"] = "open"

    answer = status(admin_client, connecting).json()

    assert (answer["state"], answer["qr"]) == ("open", "")
    assert qr_codes.newest(instance_id=connecting.id, refresh=dict, refresh_seconds=20) is None


def test_an_open_recorded_since_the_page_opened_is_believed(admin_client, connecting, fake_provider):
    opened = qr_codes.now_ms()
    services.set_connection_state(instance=connecting, state="open", reason="connection.update")

    answer = status(admin_client, connecting, opened=opened).json()

    assert (answer["state"], answer["qr"]) == ("open", "")
    assert not [r for r in fake_provider.requests if r.path.startswith("/instance/connectionState/")]


def test_an_open_older_than_the_page_is_asked_again(admin_client, connecting, fake_provider):
    services.set_connection_state(instance=connecting, state="open", reason="long ago")
    opened = qr_codes.now_ms() + 1

    answer = status(admin_client, connecting, opened=opened).json()

    assert answer["state"] == "connecting" and answer["qr"] == FAKE_QR
    connecting.refresh_from_db()
    assert connecting.connection_state == "connecting"


@pytest.mark.parametrize("param", ["since", "opened"])
@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "9" * 16, "١٢"])
def test_a_bad_time_is_a_400_naming_it(admin_client, connecting, fake_provider, param, value):
    answer = status(admin_client, connecting, **{param: value})

    assert answer.status_code == 400
    assert answer.json() == {"error": f"{param} must be milliseconds since the epoch"}
    assert fake_provider.requests == []


def test_another_organizations_admin_cannot_read_the_code(client, charlie, connecting):
    qr_codes.keep_pushed(instance_id=connecting.id, qr=PUSHED)
    charlie.is_staff = True
    charlie.save(update_fields=["is_staff"])
    client.force_login(charlie)

    answer = status(client, connecting)

    assert answer.status_code in (403, 404) and PUSHED not in answer.content.decode()
