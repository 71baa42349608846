"""Connecting an Evolution number from the admin (webhook, QR code until open) and its health history."""

from datetime import date

import pytest
from django.urls import reverse

from instances import counters
from instances.models import InstanceDay, WhatsAppInstance
from tests.factories.instances import EvolutionInstanceFactory, WhatsAppInstanceFactory
from tests.fakes.provider_server import FAKE_QR

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
