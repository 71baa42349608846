"""Audience configs of the wrong JSON type are a 400 naming the field (issue 12, finding 4)."""

import pytest

from campaigns.models import Campaign
from tests.support.automations import URL, example

pytestmark = pytest.mark.django_db


def seg(condition) -> dict:
    return {"audience_type": "segment", "audience_config": {"segment": condition}}


@pytest.mark.parametrize(
    "change",
    [
        {"audience_config": "x"},
        {"audience_config": ["contact_ids"]},
        {"audience_config": 1},
        {"audience_type": "tags", "audience_config": "vip"},
        {"audience_type": "segment", "audience_config": "x"},
        {"audience_type": "segment", "audience_config": {"segment": "x"}},
        seg({"field": "custom_fields.points__in", "op": "exists", "value": True}),
        seg({"field": "custom_fields.x__isnull", "op": "exists"}),
        seg({"field": "custom_fields.x__contains", "op": "exists", "value": False}),
        seg({"field": "created_at", "op": "gt", "value": "yesterday"}),
        seg({"field": "created_at", "op": "gt", "value": [1, 2]}),
        seg({"field": "created_at", "op": "gt", "value": {"a": 1}}),
        seg({"field": "last_interaction_at", "op": "lt", "value": 17}),
        seg({"field": "name", "op": "eq", "value": {"a": 1}}),
        seg({"field": "name", "op": "in", "value": [{"a": 1}]}),
        seg({"field": "email", "op": "contains", "value": ["x"]}),
        seg({"field": "tag", "op": "eq", "value": ["vip"]}),
        seg({"field": "tag", "op": "eq", "value": {"a": 1}}),
        seg({"field": "custom_fields.points", "op": "gte", "value": {"a": 1}}),
        seg({"field": "custom_fields.points", "op": "in", "value": [[1]]}),
        seg({"field": "custom_fields.points", "op": "exists", "value": "yes"}),
        seg({"field": ["name"], "op": "eq", "value": "x"}),
        seg({"field": "name", "op": ["eq"], "value": "x"}),
    ],
)
def test_a_wrong_type_is_a_400_naming_audience_config(alice_client, setup, change):
    response = alice_client.post(URL, {**example(*setup), **change}, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["audience_config"] or "audience_type" in response.json()
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "created_at", "op": "gt", "value": "2025-01-01"},
        {"field": "created_at", "op": "lte", "value": "2025-01-01T10:00:00-03:00"},
        {"field": "custom_fields.points", "op": "in", "value": [1, "2", True]},
        {"field": "tag", "op": "ne", "value": "vip"},
    ],
)
def test_the_right_types_are_accepted(alice_client, setup, condition):
    response = alice_client.post(URL, {**example(*setup), **seg(condition)}, format="json")

    assert response.status_code == 201, response.content
