"""GOSAC's ticket state (closed, taken by a person), test contacts by GOSAC id, messages without an id."""

import os
import subprocess
import sys

import pytest

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


def ticket(status="open", user_id=None):
    return {"id": 7001, "status": status, "userId": user_id, "contactId": 5001}


def test_a_closed_ticket_is_not_answered(gosac, fake_provider):
    response = gosac.text("Oi", ticket=ticket("closed"))

    assert response.json() == {"status": "ignored", "reason": "ticket_closed"}
    assert not sent(fake_provider)
    row = MessageHistory.objects.get()
    assert (row.text, row.external_ticket_status, row.processed_at is not None) == ("Oi", "closed", True)


def test_a_ticket_a_person_has_taken_is_not_answered_and_the_conversation_keeps_it(gosac, fake_provider):
    assert gosac.text("Oi", ticket=ticket("pending")).json()["status"] == "accepted"
    conversation = Conversation.objects.get()
    assert conversation.external_ticket_status == "pending" and conversation.external_ticket_user_id == ""

    taken = gosac.text("Quero falar com alguém", ticket=ticket("open", user_id=42))

    assert taken.json() == {"status": "ignored", "reason": "ticket_taken_by_a_person"}
    assert len(sent(fake_provider)) == 1  # only the greeting of the first message
    conversation.refresh_from_db()
    assert (conversation.external_ticket_status, conversation.external_ticket_user_id) == ("open", "42")


def test_the_setting_off_answers_taken_tickets(org_a, gosac, fake_provider):
    SystemSetting.objects.create(organization=org_a, key="BOT_SKIP_TAKEN_TICKETS", value="false", value_type="boolean")

    response = gosac.text("Oi", ticket=ticket("open", user_id=42))

    assert response.json() == {"status": "accepted", "reason": "queued"}
    assert len(sent(fake_provider)) == 1


def test_the_conversation_api_shows_the_ticket_state(gosac, alice_client):
    gosac.text("Oi", ticket=ticket("pending"))
    gosac.text("Oi?", ticket=ticket("open", user_id=7))

    listed = alice_client.get("/api/v1/conversations").json()

    assert [(c["external_ticket_status"], c["external_ticket_user_id"]) for c in listed] == [("open", "7")]


def test_test_mode_matches_a_gosac_contact_id(org_a, gosac, fake_provider):
    SystemSetting.objects.create(organization=org_a, key="TEST_MODE", value="true", value_type="boolean")
    SystemSetting.objects.create(organization=org_a, key="TEST_CONTACT_IDS", value='["24914"]', value_type="json")

    stranger = gosac.text("Oi")
    tester = gosac.text("Oi", contact={"id": 24914, "name": "Teste", "number": "5511977776666"}, contactId=24914)

    assert stranger.json() == {"status": "ignored", "reason": "not_a_test_contact"}
    assert tester.json() == {"status": "accepted", "reason": "queued"}
    assert [r.json["contact_id"] for r in sent(fake_provider)] == ["24914"]


def test_a_message_without_an_id_is_stored_once_on_redelivery(gosac, fake_provider):
    payload = gosac_payload("text", body="Oi sem id")
    del payload["data"]["id"], payload["data"]["messageId"]

    first = gosac.client.post(gosac.url, payload, format="json")
    again = gosac.client.post(gosac.url, payload, format="json")
    later = gosac_payload("text", body="Oi sem id", createdAt="2025-03-10T13:05:00.000Z")
    del later["data"]["id"], later["data"]["messageId"]
    third = gosac.client.post(gosac.url, later, format="json")

    assert first.json()["status"] == "accepted"
    assert again.json() == {"status": "ignored", "reason": "duplicate"}
    assert third.json()["status"] == "accepted"  # same text, another time: a new message
    assert MessageHistory.objects.filter(direction="in").count() == 2
    assert MessageHistory.objects.filter(direction="in").first().provider_message_id.startswith("content:")


def test_the_singular_test_contact_id_variable_is_read_as_well():
    script = "import django; django.setup(); from django.conf import settings; "
    script += "print(settings.FLOWS_BOT_DEFAULTS['TEST_CONTACT_IDS'])"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "TEST_CONTACT_ID": "24914"}
    env["TEST_CONTACT_IDS"] = "12,+5511977776666"

    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "['12', '+5511977776666', '24914']"
