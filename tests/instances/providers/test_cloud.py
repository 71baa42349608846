from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from instances import services
from instances.cloud_errors import BACKOFF, INSTANCE, RETRY, STOP_STEP, UNREACHABLE, WAIT_CONTACT, WINDOW_CLOSED
from instances.models import WhatsAppInstance
from instances.providers import get_provider
from instances.providers.base import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from instances.providers.choices import Choice, Option
from instances.providers.cloud import CloudRejected, CloudUnavailable
from tests.factories.instances import CloudInstanceFactory, GosacInstanceFactory
from tests.support.instances import flushed

pytestmark = pytest.mark.django_db

PHONE = "+5511999999999"


@pytest.fixture
def cloud(org_a, fake_graph):
    instance = CloudInstanceFactory(organization=org_a, cloud_phone_number_id="106540352242922")
    # The contact wrote a minute ago: free-form messages may go (the window is tested below).
    services.record_contact_message(instance=instance, phone=PHONE, at=timezone.now() - timedelta(minutes=1))
    return instance


def test_send_text_posts_meta_shape_with_the_bearer_token(cloud, fake_graph, settings):
    result = services.send_text(instance=cloud, phone="+5511999999999", text="Olá")

    [request] = fake_graph.sends
    assert request.path == f"/{settings.CLOUD_API_VERSION}/106540352242922/messages"
    assert request.header("authorization") == "Bearer EAAG-test-token"
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511999999999",
        "type": "text",
        "text": {"body": "Olá", "preview_url": False},
    }
    assert result.provider_message_id.startswith("wamid.")
    assert flushed(cloud).sent_today == 1


def test_media_by_link_picks_the_type_and_keeps_caption_and_file_name(cloud, fake_graph):
    services.send_media(
        instance=cloud, phone="+5511999999999", url="https://cdn.example.com/boleto.pdf", caption="Boleto"
    )
    services.send_media(instance=cloud, phone="+5511999999999", url="https://cdn.example.com/a.jpg", caption="Foto")

    document, image = (r.json for r in fake_graph.sends)
    assert (document["type"], document["document"]) == (
        "document",
        {"link": "https://cdn.example.com/boleto.pdf", "caption": "Boleto"},
    )
    assert image["image"] == {"link": "https://cdn.example.com/a.jpg", "caption": "Foto"}


def test_media_by_uploaded_id(cloud, fake_graph):
    media_id = get_provider("cloud").upload_media(cloud, b"%PDF-1.4", "application/pdf", "boleto.pdf")
    services.send_uploaded_media(
        instance=cloud, phone="+5511999999999", media_id=media_id, kind="document", filename="boleto.pdf"
    )

    upload = fake_graph.requests_to(r"/media$")[0]
    assert b'name="messaging_product"' in upload.body and b"%PDF-1.4" in upload.body
    assert fake_graph.sends[0].json["document"] == {"id": media_id, "filename": "boleto.pdf"}


def test_template_goes_by_name_language_and_components(cloud, fake_graph):
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Maria"}]}]

    services.send_template(
        instance=cloud, phone="+5511999999999", name="boas_vindas", language="pt_BR", components=components
    )

    body = fake_graph.sends[0].json
    assert body["type"] == "template"
    assert body["template"] == {"name": "boas_vindas", "language": {"code": "pt_BR"}, "components": components}


def test_interactive_payload_is_passed_through(cloud, fake_graph):
    interactive = {
        "type": "button",
        "body": {"text": "Confirma?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "sim", "title": "Sim"}}]},
    }

    services.send_interactive(instance=cloud, phone="+5511999999999", interactive=interactive)

    assert fake_graph.sends[0].json["interactive"] == interactive


def test_mark_as_read(cloud, fake_graph):
    assert services.mark_as_read(instance=cloud, message_id="wamid.ABC") is True

    [request] = fake_graph.requests_to(r"/messages$")
    assert request.json == {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.ABC"}


def test_connection_state_is_the_numbers_health(cloud, fake_graph):
    assert services.check_connection(instance=cloud) == "open"
    fake_graph.health = {"status": "BANNED"}
    assert services.check_connection(instance=cloud) == "close"

    [first, _second] = fake_graph.requests_to(r"/106540352242922\?fields=", method="GET")
    assert "quality_rating" in first.path


def test_a_refused_token_closes_the_number(cloud, fake_graph):
    fake_graph.token = "another"

    with pytest.raises(CloudRejected) as caught:
        services.send_text(instance=cloud, phone="+5511999999999", text="Olá")

    assert caught.value.instance_level and caught.value.action.kind == INSTANCE
    assert WhatsAppInstance.objects.get(id=cloud.id).connection_state == "close"


@pytest.mark.parametrize(
    ("code", "error_class", "kind"),
    [
        (130429, CloudUnavailable, RETRY),
        (131056, CloudUnavailable, WAIT_CONTACT),
        (131049, CloudUnavailable, BACKOFF),
        (131000, CloudUnavailable, RETRY),
        (131047, CloudRejected, WINDOW_CLOSED),
        (131026, CloudRejected, UNREACHABLE),
        (131008, CloudRejected, STOP_STEP),
        (132001, CloudRejected, STOP_STEP),
        (135000, CloudRejected, "fail"),
    ],
)
def test_each_meta_code_becomes_its_class_and_action_with_the_raw_error(cloud, fake_graph, code, error_class, kind):
    fake_graph.refuse("5511999999999", code)

    with pytest.raises(error_class) as caught:
        services.send_text(instance=cloud, phone="+5511999999999", text="Olá")

    error = caught.value
    assert isinstance(error, ProviderUnavailable if error_class is CloudUnavailable else ProviderRejected)
    assert error.action.kind == kind
    assert error.meta["code"] == code
    assert error.meta["title"].startswith(f"(#{code}) ")
    assert error.meta["details"]
    assert error.code == f"meta_{code}"


def test_an_answer_without_a_message_id_is_an_unknown_outcome(cloud, fake_graph):
    fake_graph.respond("POST", r"/messages$", json={"messaging_product": "whatsapp", "messages": []})

    with pytest.raises(ProviderOutcomeUnknown):
        services.send_text(instance=cloud, phone="+5511999999999", text="Olá")


def test_a_number_without_a_token_is_refused_before_any_request(org_a, fake_graph):
    cloud = CloudInstanceFactory(organization=org_a, secrets={"access_token": ""})
    cloud.cloud_secrets_encrypted = ""
    cloud.save()

    with pytest.raises(ProviderRejected) as caught:
        services.send_template(instance=cloud, phone="+5511999999999", name="boas_vindas", language="pt_BR")

    assert caught.value.code == "bad_configuration"
    assert fake_graph.requests == []


def test_other_providers_have_no_templates(org_a):
    gosac = GosacInstanceFactory(organization=org_a)

    with pytest.raises(ProviderRejected) as caught:
        services.send_template(instance=gosac, phone="4821", name="x", language="pt_BR")

    assert caught.value.code == "unsupported"


def test_secrets_are_encrypted_at_rest_and_merged(org_a, secret_keys):
    cloud = CloudInstanceFactory(organization=org_a)

    assert "EAAG-test-token" not in cloud.cloud_secrets_encrypted
    cloud.set_cloud_secrets(access_token="", app_secret="new-secret")
    assert cloud.cloud_secrets() == {
        "access_token": "EAAG-test-token",
        "app_secret": "new-secret",
        "verify_token": "verify-5678",
    }
    assert cloud.cloud_secret_hint() == "access_token, app_secret, verify_token"


def test_free_form_goes_inside_the_window_and_is_refused_outside_it_without_a_request(cloud, fake_graph):
    wrote = timezone.now()
    services.record_contact_message(instance=cloud, phone=PHONE, at=wrote)

    with time_machine.travel(wrote + timedelta(hours=23, minutes=59), tick=False):
        services.send_text(instance=cloud, phone=PHONE, text="Ainda dentro")
    with time_machine.travel(wrote + timedelta(hours=24, minutes=1), tick=False):
        with pytest.raises(CloudRejected) as caught:
            services.send_text(instance=cloud, phone=PHONE, text="Fora")
        services.send_template(instance=cloud, phone=PHONE, name="retomada", language="pt_BR")

    assert caught.value.action.kind == WINDOW_CLOSED and caught.value.meta["code"] == 131047
    assert [r.json["type"] for r in fake_graph.sends] == ["text", "template"]


def test_a_contact_that_never_wrote_gets_no_free_form(cloud, fake_graph):
    with pytest.raises(CloudRejected):
        services.send_text(instance=cloud, phone="+5511911112222", text="Olá")

    assert fake_graph.sends == []


def test_the_window_only_moves_forward(cloud):
    now = timezone.now()
    services.record_contact_message(instance=cloud, phone=PHONE, at=now)
    services.record_contact_message(instance=cloud, phone=PHONE, at=now - timedelta(hours=30))

    with time_machine.travel(now + timedelta(hours=23), tick=False):
        assert services.window_open(instance=cloud, phone=PHONE)


def test_a_choice_of_three_is_reply_buttons_and_of_five_a_list_with_the_options_ids(cloud, fake_graph):
    options = [Option(key=f"opt-{n}", label=f"Opção {n}") for n in "ABCDE"]
    services.send_choice(instance=cloud, phone=PHONE, choice=Choice(prompt="Escolha:", options=tuple(options[:3])))
    services.send_choice(instance=cloud, phone=PHONE, choice=Choice(prompt="Escolha:", options=tuple(options)))

    buttons, listed = (r.json["interactive"] for r in fake_graph.sends)
    assert buttons["type"] == "button"
    assert [b["reply"] for b in buttons["action"]["buttons"]] == [
        {"id": "opt-A", "title": "Opção A"},
        {"id": "opt-B", "title": "Opção B"},
        {"id": "opt-C", "title": "Opção C"},
    ]
    assert listed["type"] == "list"
    assert [row["id"] for row in listed["action"]["sections"][0]["rows"]] == [f"opt-{n}" for n in "ABCDE"]
