"""Hostile payloads to the GOSAC endpoint: never a 5xx; a message with bad characters is kept."""

import json

import pytest

from flows.models import MessageHistory
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.webhooks.gosac_helpers import gosac_payload

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
