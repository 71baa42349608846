"""Hostile or careless input to the API: always a 400 naming the field, never a 5xx.

Issue 12, findings 1-3: nesting that makes Python's json recurse, NUL and lone
surrogates that PostgreSQL refuses, numbers that overflow.
"""

import json

import pytest

from contacts.models import Contact
from flows.models import Flow
from tests.factories.flows import ConversationFactory, FlowTemplateFactory

pytestmark = pytest.mark.django_db


def post_raw(client, url, body: bytes):
    return client.generic("POST", url, body, content_type="application/json")


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"name": "x", "custom_fields": ' + b'{"a": ' * 3_000 + b"1" + b"}" * 3_001,
    ],
)
@pytest.mark.parametrize(
    "url", ["/api/v1/contacts/", "/api/v1/flows/", "/api/v1/import/flows", "/api/v1/bot/test-mode"]
)
def test_deep_nesting_is_a_400(alice_client, url, body):
    response = post_raw(alice_client, url, body)

    assert response.status_code == 400
    assert "nest" in response.json()["detail"]


def test_nul_in_a_nested_value_is_a_400_naming_its_path(alice_client):
    response = alice_client.post(
        "/api/v1/contacts/", {"phone": "+5511987654321", "custom_fields": {"plan": "gold\x00"}}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["custom_fields.plan"]
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "trigger_keywords": ["oi", "\ud800"]}, "trigger_keywords[1]"),
        ({"name": "x\x00"}, "name"),
        ({"name": "x", "custom": {"k\x00": 1}}, "custom.k\\x00"),
    ],
)
def test_nul_and_lone_surrogates_anywhere_are_a_400(alice_client, org_a, payload, field):
    flow = FlowTemplateFactory(organization=org_a)
    body = {"flow": Flow.objects.create(template=flow, name="F").id, **payload}

    response = post_raw(alice_client, "/api/v1/subflows/", json.dumps(body).encode())

    assert response.status_code == 400
    assert field in response.json()


def test_nul_in_a_form_body_is_a_400(alice_client):
    response = alice_client.post("/api/v1/tags/", {"name": "vip\x00"})

    assert response.status_code == 400 and "name" in response.json()


@pytest.mark.parametrize("query", ["status=%00", "contact=%00", "search=a%00b", "ordering=%00"])
def test_nul_in_a_query_parameter_is_a_400_naming_it(alice_client, org_a, query):
    ConversationFactory(organization=org_a)

    response = alice_client.get(f"/api/v1/conversations/?{query}")

    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_nul_in_an_admin_query_is_a_400_not_a_500(admin_client):
    assert admin_client.get("/admin/contacts/contact/?q=%00").status_code == 400


@pytest.mark.parametrize("field", ["template"])
def test_an_overflowing_id_is_a_400_naming_it(alice_client, field):
    response = post_raw(alice_client, "/api/v1/flows/", b'{"name": "x", "%s": 1e999}' % field.encode())

    assert response.status_code == 400 and field in response.json()


@pytest.mark.parametrize("field", ["chatbot_id", "flow_id", "whatsapp_number_id"])
def test_an_overflowing_campaign_reference_is_a_400_naming_it(alice_client, field):
    response = post_raw(alice_client, "/api/v1/flow-automations/", b'{"name": "x", "%s": 1e999}' % field.encode())

    assert response.status_code == 400 and field in response.json()


def test_an_overflowing_setting_value_is_a_400(alice_client):
    response = alice_client.generic(
        "PUT", "/api/v1/settings/DEBOUNCE_TIME", b'{"value": 1e999}', content_type="application/json"
    )

    assert response.status_code == 400 and "value" in response.json()
