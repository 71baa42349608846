"""Each field the issue names refuses NUL and lone surrogates with a 400 naming it (issue 12, finding 2).

One parser check covers them all; this walks the list so a new parser or endpoint that
skips it shows up here.
"""

import json

import pytest

from campaigns.models import Campaign
from contacts.models import Contact, Tag
from flows.models import FlowMessage, Subflow
from tests.factories.campaigns import make_flow
from tests.factories.contacts import ContactFactory
from tests.factories.instances import WhatsAppInstanceFactory

pytestmark = pytest.mark.django_db

BAD = ["x\x00", "\ud800", "ok\udfffok"]


@pytest.fixture
def world(org_a):
    flow = make_flow(org_a)
    return {
        "flow": flow,
        "subflow": flow.subflows.first(),
        "instance": WhatsAppInstanceFactory(organization=org_a),
        "contact": ContactFactory(organization=org_a),
    }


def campaign(w, **change):
    return {
        "name": "x",
        "chatbot_id": w["flow"].template_id,
        "flow_id": w["flow"].id,
        "whatsapp_number_id": w["instance"].id,
        **change,
    }


CASES = [
    ("contacts/", lambda w, v: {"phone": "+5511911112222", "custom_fields": {"k": v}}, "custom_fields.k"),
    ("contacts/", lambda w, v: {"phone": "+5511911112222", "tags": ["vip", v]}, "tags[1]"),
    ("flow-automations", lambda w, v: campaign(w, variable_mapping={"name": v}), "variable_mapping.name"),
    ("flow-automations", lambda w, v: campaign(w, trigger_config={"at": v}), "trigger_config.at"),
    ("flow-automations", lambda w, v: campaign(w, audience_config={"tags": [v]}), "audience_config.tags[0]"),
    ("flow-automations", lambda w, v: campaign(w, trigger_type=v), "trigger_type"),
    ("flow-messages/", lambda w, v: {"subflow": w["subflow"].id, "text": "x", "variations": [v]}, "variations[0]"),
    (
        "flow-messages/",
        lambda w, v: {"subflow": w["subflow"].id, "text": "x", "wait_for_file": True, "expected_file_types": [v]},
        "expected_file_types[0]",
    ),
    ("flow-messages/", lambda w, v: {"subflow": w["subflow"].id, "message_type": v}, "message_type"),
    ("subflows/", lambda w, v: {"flow": w["flow"].id, "name": "x", "trigger_keywords": [v]}, "trigger_keywords[0]"),
    ("tags/", lambda w, v: {"name": v}, "name"),
    ("contacts/{contact}/opt-out", lambda w, v: {"reason": v}, "reason"),
]


def rows() -> dict:
    return {model.__name__: model.objects.count() for model in (Contact, Tag, Campaign, FlowMessage, Subflow)} | {
        "opted_out": Contact.objects.filter(opted_out_at__isnull=False).count()
    }


@pytest.mark.parametrize("value", BAD, ids=["nul", "high_surrogate", "low_surrogate"])
@pytest.mark.parametrize(("url", "body", "field"), CASES, ids=[field for _, _, field in CASES])
def test_the_field_refuses_unstorable_text(alice_client, world, url, body, field, value):
    before = rows()
    url = "/api/v1/" + url.format(contact=world["contact"].id)

    response = alice_client.generic("POST", url, json.dumps(body(world, value)), content_type="application/json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert rows() == before
