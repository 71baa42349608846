"""What the GOSAC endpoint answers, and what it leaves alone."""

import pytest

from contacts.models import Contact
from flows.models import Conversation, MessageHistory, SystemSetting
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.support.gosac import gosac_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_waits", "eager_celery")]


@pytest.fixture(autouse=True)
def hello_flow(org_a):
    subflow = SubflowFactory(flow=flow_for(org_a, is_default=True))
    FlowMessageFactory(subflow=subflow, text="Olá!", wait_for_response=True)


def sent(fake_provider):
    return fake_provider.requests_to(r"^/send-message$")


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("from_me", "from_me"),
        ("from_group", "from_group"),
        ("image", "media_type_image_not_handled"),
    ],
)
def test_it_ignores_with_a_reason(fixture, reason, gosac, fake_provider):
    response = gosac.post(fixture)

    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "reason": reason}
    assert not sent(fake_provider)
    assert not MessageHistory.objects.exists() and not Conversation.objects.exists()


def test_other_event_types_are_ignored(gosac, fake_provider):
    payload = gosac_payload("text")
    payload["type"] = "tickets:updated"

    response = gosac.client.post(gosac.url, payload, format="json")

    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert not MessageHistory.objects.exists()


def test_bot_disabled_answers_nothing(org_a, gosac, fake_provider):
    SystemSetting.objects.create(organization=org_a, key="BOT_ENABLED", value="false", value_type="boolean")

    response = gosac.text("Oi")

    assert response.json() == {"status": "ignored", "reason": "bot_disabled"}
    assert not sent(fake_provider) and not Conversation.objects.exists()
    assert MessageHistory.objects.get().processed_at is not None  # kept in the history, never answered


def test_a_paused_bot_answers_nothing(org_a, gosac, fake_provider):
    SystemSetting.objects.create(organization=org_a, key="BOT_STATUS", value="maintenance")

    assert gosac.text("Oi").json() == {"status": "ignored", "reason": "bot_maintenance"}
    assert not sent(fake_provider)


def test_test_mode_answers_only_test_contacts(org_a, gosac, fake_provider):
    SystemSetting.objects.create(organization=org_a, key="TEST_MODE", value="true", value_type="boolean")
    SystemSetting.objects.create(organization=org_a, key="TEST_CONTACT_IDS", value='["+5511977776666"]')

    stranger = gosac.text("Oi")
    tester = gosac.text("Oi", contact={"id": 6001, "name": "Teste", "number": "5511977776666"}, contactId=6001)

    assert stranger.json() == {"status": "ignored", "reason": "not_a_test_contact"}
    assert tester.json() == {"status": "accepted", "reason": "queued"}
    assert [r.json["contact_id"] for r in sent(fake_provider)] == ["6001"]


def test_a_redelivered_message_is_answered_once(gosac, fake_provider):
    first = gosac.text("Oi", id="same-id")
    again = gosac.text("Oi", id="same-id")

    assert first.json()["status"] == "accepted"
    assert again.json() == {"status": "ignored", "reason": "duplicate"}
    assert len(sent(fake_provider)) == 1


def test_the_contact_is_created_then_updated_from_the_payload(org_a, gosac):
    gosac.text("Oi", contact={"id": 5001, "name": "", "number": "5511988887777"})
    gosac.text("Oi de novo", contact={"id": 5001, "name": "Maria Souza", "number": "+55 (11) 98888-7777"})

    contact = Contact.objects.get()
    assert (contact.phone, contact.name, contact.total_messages_received) == ("+5511988887777", "Maria Souza", 2)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p["data"].pop("contact"), "data.contact is missing"),
        (lambda p: p["data"]["contact"].update(number="abc"), "data.contact.number is not a phone number"),
        (lambda p: p["data"].update(fromMe="yes"), "data.fromMe must be true or false"),
        (lambda p: p.update(data=[]), "data must be an object"),
    ],
)
def test_a_broken_payload_is_a_400_naming_the_field(mutate, message, gosac):
    payload = gosac_payload("text")
    mutate(payload)

    response = gosac.client.post(gosac.url, payload, format="json")

    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not MessageHistory.objects.exists()


def test_malformed_json_is_a_400(gosac):
    response = gosac.client.post(gosac.url, data="{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "Malformed JSON."


def test_an_unknown_secret_is_a_404(anon_client, gosac_instance):
    response = anon_client.post("/api/webhooks/gosac/not-a-secret/", gosac_payload("text"), format="json")
    assert response.status_code == 404
    assert not MessageHistory.objects.exists()


def test_the_secret_of_a_non_gosac_instance_is_unknown(anon_client, org_a):
    from tests.factories.instances import WhatsAppInstanceFactory

    sandbox = WhatsAppInstanceFactory(organization=org_a)
    response = anon_client.post(f"/api/webhooks/gosac/{sandbox.webhook_secret}/", gosac_payload("text"), format="json")
    assert response.status_code == 404


def test_one_inbound_message_costs_a_bounded_number_of_queries(gosac, django_assert_max_num_queries):
    gosac.text("Oi")  # the contact and the conversation exist from here on
    with django_assert_max_num_queries(26):  # 24, the handoff check and the no-reply timer
        response = gosac.text("Tudo bem?")
    assert response.json()["status"] == "accepted"
