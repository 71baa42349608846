import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import Membership
from accounts.services import add_member
from instances.models import SandboxMessage, WhatsAppInstance
from tests.factories.instances import EvolutionInstanceFactory, WhatsAppInstanceFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:instances_whatsappinstance_changelist")


def change_url(instance):
    return reverse("admin:instances_whatsappinstance_change", args=[instance.id])


def run_action(client, action, instances, **extra):
    data = {"action": action, "_selected_action": [i.id for i in instances], **extra}
    return client.post(CHANGELIST, data, follow=True)


@pytest.fixture
def staff_client(client, django_user_model, org_a):
    user = django_user_model.objects.create_user("sofia", "sofia@example.com", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__endswith="whatsappinstance"))
    add_member(organization=org_a, user=user, role=Membership.Role.OPERATOR)
    client.force_login(user)
    return client


def test_the_list_shows_badges_and_counters_but_no_secret(admin_client, org_a):
    EvolutionInstanceFactory(
        organization=org_a, name="Loja Centro", api_key="evo-VERYSECRET-1234", health_score=42, sent_today=17
    )

    response = admin_client.get(CHANGELIST)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Loja Centro" in html
    assert "#c62828" in html, "poor health is red"
    assert ">17<" in html
    assert "VERYSECRET" not in html


def test_the_health_filter_keeps_the_poor_ones(admin_client, org_a):
    WhatsAppInstanceFactory(organization=org_a, name="Saudavel", health_score=95)
    WhatsAppInstanceFactory(organization=org_a, name="Doente", health_score=30)

    html = admin_client.get(CHANGELIST, {"health": "poor"}).content.decode()

    assert "Doente" in html and "Saudavel" not in html


def test_a_number_that_needs_a_new_qr_login_has_a_badge_and_a_filter(admin_client, org_a):
    EvolutionInstanceFactory(organization=org_a, name="Deslogada", connection_state="close", needs_qr_login=True)
    EvolutionInstanceFactory(organization=org_a, name="Conectada", connection_state="open")

    everything = admin_client.get(CHANGELIST).content.decode()
    needed = admin_client.get(CHANGELIST, {"qr_login": "needed"}).content.decode()

    assert everything.count("Needs a new QR login</span>") == 1
    assert "Deslogada" in needed and "Conectada" not in needed


def test_the_change_form_masks_keys_and_a_blank_one_keeps_the_stored_key(admin_client, org_a):
    instance = EvolutionInstanceFactory(organization=org_a, api_key="evo-VERYSECRET-1234", instance_name="loja-x")

    page = admin_client.get(change_url(instance)).content.decode()
    assert "VERYSECRET" not in page
    assert "…1234" in page
    # In the theme's inputs (bordered): Django's plain ones are invisible in it.
    for name in ("base_url", "api_key", "integration_key"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert "border" in tag, tag

    form = {
        "organization": org_a.id,
        "name": "Loja X",
        "provider": "evolution",
        "phone_number": "",
        "status": "active",
        "base_url": "https://evo.example.com",
        "instance_name": "loja-x",
        "api_version": "v2",
        "api_key": "",
        "integration_key": "",
        "sandbox_config": "{}",
    }
    response = admin_client.post(change_url(instance), form)
    assert response.status_code == 302
    instance.refresh_from_db()
    assert (instance.name, instance.api_key) == ("Loja X", "evo-VERYSECRET-1234")

    admin_client.post(change_url(instance), {**form, "api_key": "evo-NEW-9999"})
    instance.refresh_from_db()
    assert instance.api_key == "evo-NEW-9999"


def test_check_connection_stores_what_the_provider_says(admin_client, org_a, fake_provider):
    instance = EvolutionInstanceFactory(organization=org_a, base_url=fake_provider.url, connection_state="close")

    response = run_action(admin_client, "check_connection", [instance])

    assert "connection is open" in response.content.decode()
    instance.refresh_from_db()
    assert instance.connection_state == WhatsAppInstance.ConnectionState.OPEN


def test_check_connection_reports_a_provider_error(admin_client, org_a, closed_port):
    instance = EvolutionInstanceFactory(organization=org_a, base_url=f"http://127.0.0.1:{closed_port}")

    response = run_action(admin_client, "check_connection", [instance])

    assert "Could not connect" in response.content.decode()


def test_send_test_message_asks_for_number_and_text_then_sends(admin_client, org_a):
    instance = WhatsAppInstanceFactory(organization=org_a, name="Sandbox A")

    form_page = run_action(admin_client, "send_test_message", [instance])
    assert form_page.templates[0].name == "admin/instances/send_test_message.html"
    assert not SandboxMessage.objects.exists()

    bad = run_action(admin_client, "send_test_message", [instance], apply="1", phone="123", text="Oi")
    assert "not a valid phone number" in bad.content.decode()
    assert not SandboxMessage.objects.exists()

    done = run_action(admin_client, "send_test_message", [instance], apply="1", phone="11 99999-9999", text="Oi")
    message = SandboxMessage.objects.get()
    assert (message.instance_id, message.to_phone, message.text) == (instance.id, "+5511999999999", "Oi")
    assert message.provider_message_id in done.content.decode()


def test_configure_webhook_sets_evolutions_webhook(admin_client, org_a, fake_provider, settings):
    settings.PUBLIC_BASE_URL = "https://whatsflow.example.com"
    instance = EvolutionInstanceFactory(organization=org_a, base_url=fake_provider.url, instance_name="loja-w")
    sandbox = WhatsAppInstanceFactory(organization=org_a, name="Sandbox W")

    response = run_action(admin_client, "configure_webhook", [instance, sandbox])

    [request] = fake_provider.requests
    assert request.path == "/webhook/set/loja-w"
    assert (
        request.json["webhook"]["url"]
        == f"https://whatsflow.example.com/api/webhooks/evolution/{instance.webhook_secret}/"
    )
    html = response.content.decode()
    assert "only Evolution instances" in html
    assert "webhook set to" in html


def test_staff_see_only_their_organizations_instances(staff_client, org_a, org_b):
    WhatsAppInstanceFactory(organization=org_a, name="Nossa")
    theirs = WhatsAppInstanceFactory(organization=org_b, name="Deles")

    html = staff_client.get(CHANGELIST).content.decode()

    assert "Nossa" in html and "Deles" not in html
    assert staff_client.get(change_url(theirs)).status_code == 302
    run_action(staff_client, "send_test_message", [theirs], apply="1", phone="+5511999999999", text="x")
    assert not SandboxMessage.objects.exists()
