"""Hostile payloads to the GOSAC endpoint: never a 5xx; a message with bad characters is kept."""

import json

import pytest

from flows.models import MessageHistory
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.support.gosac import gosac_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_waits", "eager_celery")]


@pytest.fixture(autouse=True)
def hello_flow(org_a):
    subflow = SubflowFactory(flow=flow_for(org_a, is_default=True))
    FlowMessageFactory(subflow=subflow, text="Olá!", wait_for_response=True)


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"type": "messages:created", "data": ' + b"{" * 5_000])
def test_deep_nesting_is_a_400(gosac, body):
    response = gosac.client.generic("POST", gosac.url, body, content_type="application/json")

    assert response.status_code == 400


def test_nul_and_lone_surrogates_are_replaced_and_the_message_kept(gosac):
    payload = gosac_payload("text", body="Oi\x00 \udfff", id="msg\x00-1")
    payload["data"]["contact"]["name\x00"] = "x"

    response = gosac.client.generic("POST", gosac.url, json.dumps(payload), content_type="application/json")

    assert response.status_code == 200, response.content
    assert MessageHistory.objects.filter(direction="in").get().text == "Oi\ufffd \ufffd"


def test_an_overflowing_id_is_kept_as_missing(gosac):
    body = json.dumps(gosac_payload("text", body="Oi")).replace('"ticketId": 7001', '"ticketId": 1e999')

    response = gosac.client.generic("POST", gosac.url, body, content_type="application/json")

    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "change",
    [
        {"id": "m" * 5_000},
        {"ticketId": "t" * 5_000},
        {"contactId": "c" * 5_000},
        {"body": "b" * 50_000},
        {"mediaType": "x" * 5_000},
        {"mediaUrl": "u" * 5_000},
        {"contact": {"id": 5001, "name": "n" * 5_000, "number": "5511988887777"}},
        {"ticket": {"id": 7001, "status": "s" * 5_000, "userId": "u" * 5_000}},
    ],
    ids=["id", "ticketId", "contactId", "body", "mediaType", "mediaUrl", "contact.name", "ticket.status"],
)
def test_long_values_are_not_a_500(gosac, change):
    payload = gosac_payload("text")
    payload["data"].update(change)

    response = gosac.client.generic("POST", gosac.url, json.dumps(payload), content_type="application/json")

    assert response.status_code < 500
