"""The Evolution client against a real HTTP server: exact requests, real-format answers."""

import logging
from datetime import UTC, datetime

import pytest

from instances.models import WhatsAppInstance
from instances.providers.base import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable
from instances.services import check_connection, configure_webhook, send_media, send_text
from tests.factories.instances import EvolutionInstanceFactory
from tests.support.instances import answer, flushed

pytestmark = pytest.mark.django_db


@pytest.fixture
def v2(org_a, fake_provider):
    return EvolutionInstanceFactory(
        organization=org_a, base_url=fake_provider.url, instance_name="loja-centro", api_key="evo-key-XYZ-9876"
    )


@pytest.fixture
def v1(org_a, fake_provider):
    return EvolutionInstanceFactory(
        organization=org_a, base_url=fake_provider.url + "/", instance_name="loja-v1", api_version="v1"
    )


def test_v2_send_text_posts_digits_and_text_with_the_apikey(v2, fake_provider):
    fake_provider.respond("POST", r"^/message/sendText/", status=201, json=answer("evolution", "v2_send_text_created"))

    result = send_text(instance=v2, phone="+5511999999999", text="Olá Maria, seu desconto é 10%")

    [request] = fake_provider.requests
    assert (request.method, request.path) == ("POST", "/message/sendText/loja-centro")
    assert request.header("apikey") == "evo-key-XYZ-9876"
    assert request.header("content-type") == "application/json"
    assert request.json == {"number": "5511999999999", "text": "Olá Maria, seu desconto é 10%", "linkPreview": True}
    assert result.provider_message_id == "3EB0A1B2C3D4E5F60718"
    assert result.accepted_at == datetime.fromtimestamp(1772463600, tz=UTC)
    assert result.raw["status"] == "PENDING"
    assert flushed(v2).sent_today == 1


def test_v1_send_text_uses_the_text_message_body(v1, fake_provider):
    fake_provider.respond("POST", r"^/message/sendText/", status=201, json=answer("evolution", "v1_send_text_created"))

    result = send_text(instance=v1, phone="+55 (11) 99999-9999", text="Oi")

    [request] = fake_provider.requests
    assert request.path == "/message/sendText/loja-v1"
    assert request.json == {"number": "5511999999999", "options": {"delay": 0}, "textMessage": {"text": "Oi"}}
    assert result.provider_message_id == "BAE594145F4C59B4"
    assert result.accepted_at == datetime.fromtimestamp(1772463600, tz=UTC)


def test_v2_send_media_names_type_mimetype_and_file(v2, fake_provider):
    fake_provider.respond(
        "POST", r"^/message/sendMedia/", status=201, json=answer("evolution", "v2_send_media_created")
    )

    result = send_media(
        instance=v2, phone="+5511999999999", url="https://cdn.example.com/files/boleto.pdf", caption="Seu boleto"
    )

    [request] = fake_provider.requests
    assert request.path == "/message/sendMedia/loja-centro"
    assert request.json == {
        "number": "5511999999999",
        "mediatype": "document",
        "mimetype": "application/pdf",
        "caption": "Seu boleto",
        "media": "https://cdn.example.com/files/boleto.pdf",
        "fileName": "boleto.pdf",
    }
    assert result.provider_message_id == "3EB0F00DBABE12345678"


def test_v1_send_media_nests_the_media_message(v1, fake_provider):
    send_media(
        instance=v1,
        phone="+5511999999999",
        url="https://cdn.example.com/p.jpg?sig=1",
        caption="Promo",
        filename="promo.jpg",
        mimetype="image/jpeg",
    )

    [request] = fake_provider.requests
    assert request.json == {
        "number": "5511999999999",
        "options": {"delay": 0},
        "mediaMessage": {
            "mediatype": "image",
            "caption": "Promo",
            "media": "https://cdn.example.com/p.jpg?sig=1",
            "fileName": "promo.jpg",
        },
    }


def test_a_number_not_on_whatsapp_is_rejected_and_counted_failed(v2, fake_provider, connection_events):
    fake_provider.respond(
        "POST", r"^/message/sendText/", status=400, json=answer("evolution", "send_text_not_on_whatsapp")
    )

    with pytest.raises(ProviderRejected) as caught:
        send_text(instance=v2, phone="+5511900000000", text="Oi")

    assert caught.value.code == "not_on_whatsapp"
    assert caught.value.status_code == 400
    assert caught.value.instance_level is False
    row = flushed(v2)
    assert (row.sent_today, row.failed_today) == (0, 1)
    assert row.connection_state == WhatsAppInstance.ConnectionState.OPEN
    assert connection_events == []


def test_another_400_is_rejected_with_evolutions_message(v2, fake_provider):
    fake_provider.respond("POST", r"^/message/sendText/", status=400, json=answer("evolution", "send_text_bad_request"))

    with pytest.raises(ProviderRejected) as caught:
        send_text(instance=v2, phone="+5511999999999", text="Oi")

    assert caught.value.code == "rejected"
    assert 'instance requires property "text"' in str(caught.value)


def test_an_unknown_instance_is_rejected_and_closes_the_instance(
    v2, fake_provider, connection_events, django_capture_on_commit_callbacks
):
    fake_provider.respond("POST", r"^/message/sendText/", status=404, json=answer("evolution", "instance_not_found"))

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ProviderRejected) as caught:
        send_text(instance=v2, phone="+5511999999999", text="Oi")

    assert caught.value.code == "instance_not_found"
    assert caught.value.instance_level is True
    assert "loja-centro" in str(caught.value)
    row = flushed(v2)
    assert row.connection_state == WhatsAppInstance.ConnectionState.CLOSE
    assert row.failed_today == 1
    assert [(e["old_state"], e["new_state"]) for e in connection_events] == [("open", "close")]


def test_a_wrong_api_key_is_rejected_as_unauthorized(v2, fake_provider):
    fake_provider.respond("POST", r"^/message/sendText/", status=401, json=answer("evolution", "unauthorized"))

    with pytest.raises(ProviderRejected) as caught:
        send_text(instance=v2, phone="+5511999999999", text="Oi")

    assert (caught.value.code, caught.value.instance_level) == ("unauthorized", True)


@pytest.mark.parametrize(("status", "code"), [(429, "rate_limited"), (500, "server_error"), (503, "server_error")])
def test_rate_limits_and_server_errors_are_unavailable_and_not_counted(v2, fake_provider, status, code):
    fake_provider.respond("POST", r"^/message/sendText/", status=status, json={"status": status, "error": "x"})

    with pytest.raises(ProviderUnavailable) as caught:
        send_text(instance=v2, phone="+5511999999999", text="Oi")

    assert (caught.value.code, caught.value.status_code) == (code, status)
    row = flushed(v2)
    assert (row.sent_today, row.failed_today) == (0, 0)


def test_a_refused_connection_is_unavailable(v2, closed_port):
    v2.base_url = f"http://127.0.0.1:{closed_port}"

    with pytest.raises(ProviderUnavailable) as caught:
        send_text(instance=v2, phone="+5511999999999", text="Oi")

    assert caught.value.code == "connection_failed"


def test_an_unresolvable_host_is_unavailable(v2):
    v2.base_url = "http://evolution.invalid"

    with pytest.raises(ProviderUnavailable) as caught:
        send_text(instance=v2, phone="+5511999999999", text="Oi")

    assert caught.value.code == "connection_failed"


def test_a_read_timeout_after_sending_is_outcome_unknown(v2, fake_provider, settings):
    settings.PROVIDER_READ_TIMEOUT = 0.2
    fake_provider.respond(
        "POST", r"^/message/sendText/", status=201, json=answer("evolution", "v2_send_text_created"), delay=0.6
    )

    with pytest.raises(ProviderOutcomeUnknown) as caught:
        send_text(instance=v2, phone="+5511999999999", text="Oi")

    assert caught.value.code == "read_timeout"
    assert len(fake_provider.requests) == 1, "the provider did receive the message"
    row = flushed(v2)
    assert (row.sent_today, row.failed_today) == (0, 0)


def test_a_connection_dropped_before_the_answer_is_outcome_unknown(v2, fake_provider):
    fake_provider.respond("POST", r"^/message/sendText/", close=True)

    with pytest.raises(ProviderOutcomeUnknown) as caught:
        send_text(instance=v2, phone="+5511999999999", text="Oi")

    assert caught.value.code == "connection_dropped"


def test_an_accepted_answer_without_key_id_is_outcome_unknown(v2, fake_provider):
    fake_provider.respond("POST", r"^/message/sendText/", status=201, json={"status": "PENDING"})

    with pytest.raises(ProviderOutcomeUnknown):
        send_text(instance=v2, phone="+5511999999999", text="Oi")


def test_an_inactive_instance_does_not_call_the_provider(v2, fake_provider):
    v2.status = WhatsAppInstance.Status.INACTIVE

    with pytest.raises(ProviderRejected) as caught:
        send_text(instance=v2, phone="+5511999999999", text="Oi")

    assert caught.value.code == "instance_inactive"
    assert fake_provider.requests == []


@pytest.mark.parametrize(
    ("fixture", "state"), [("connection_state_open", "open"), ("connection_state_connecting", "connecting")]
)
def test_check_connection_asks_evolution_and_stores_the_state(v2, fake_provider, fixture, state):
    WhatsAppInstance.objects.filter(id=v2.id).update(connection_state="close")
    v2.refresh_from_db()
    fake_provider.respond("GET", r"^/instance/connectionState/", json=answer("evolution", fixture))

    assert check_connection(instance=v2) == state

    [request] = fake_provider.requests
    assert (request.method, request.path, request.header("apikey")) == (
        "GET",
        "/instance/connectionState/loja-centro",
        "evo-key-XYZ-9876",
    )
    assert WhatsAppInstance.objects.get(id=v2.id).connection_state == state


def test_configure_webhook_v2_sends_the_nested_body_with_the_secret_url(v2, fake_provider, settings):
    settings.PUBLIC_BASE_URL = "https://whatsflow.example.com/"
    fake_provider.respond("POST", r"^/webhook/set/", status=201, json=answer("evolution", "webhook_set_created"))

    url = configure_webhook(instance=v2)

    assert url == f"https://whatsflow.example.com/api/webhooks/evolution/{v2.webhook_secret}/"
    [request] = fake_provider.requests
    assert (request.path, request.header("apikey")) == ("/webhook/set/loja-centro", "evo-key-XYZ-9876")
    assert request.json == {
        "webhook": {
            "enabled": True,
            "url": url,
            "headers": {},
            "byEvents": False,
            "base64": False,
            "events": ["MESSAGES_UPSERT", "MESSAGES_UPDATE", "MESSAGES_DELETE", "CONNECTION_UPDATE", "QRCODE_UPDATED"],
        }
    }


def test_configure_webhook_v1_sends_the_flat_body(v1, fake_provider):
    url = configure_webhook(instance=v1, events=["MESSAGES_UPDATE"])

    [request] = fake_provider.requests
    assert request.path == "/webhook/set/loja-v1"
    assert request.json == {
        "url": url,
        "enabled": True,
        "webhook_by_events": False,
        "webhook_base64": False,
        "events": ["MESSAGES_UPDATE"],
    }


def test_configure_webhook_falls_back_to_the_flat_body_on_early_v2(v2, fake_provider):
    fake_provider.respond(
        "POST",
        r"^/webhook/set/",
        status=400,
        json={"status": 400, "error": "Bad Request", "response": {"message": [['instance requires property "url"']]}},
        times=1,
    )

    configure_webhook(instance=v2)

    first, second = fake_provider.requests
    assert "webhook" in first.json
    assert second.json["url"] == first.json["webhook"]["url"]
    assert second.json["webhook_by_events"] is False


def test_the_api_key_never_reaches_the_logs(v2, fake_provider, caplog):
    caplog.set_level(logging.DEBUG)
    send_text(instance=v2, phone="+5511999999999", text="Oi")
    fake_provider.respond("POST", r"^/message/sendText/", status=401, json=answer("evolution", "unauthorized"))
    with pytest.raises(ProviderRejected):
        send_text(instance=v2, phone="+5511999999999", text="Oi")

    assert "provider call" in caplog.text
    assert "latency_ms=" in caplog.text
    assert "evo-key-XYZ-9876" not in caplog.text
