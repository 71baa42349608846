"""Segment filters over custom fields: numbers compare as numbers; text that is not a number is skipped."""

import pytest

from campaigns import audience
from tests.factories.contacts import ContactFactory


def segment(organization, condition) -> set[str]:
    contacts = audience.audience_queryset(
        organization=organization, audience_type="segment", audience_config={"segment": condition}
    )
    return set(contacts.values_list("name", flat=True))


@pytest.fixture
def points(org_a):
    values = {
        "number": 150,
        "decimal": 99.5,
        "numeric text": "120",
        "padded text": " 1e2 ",
        "negative": "-5",
        "words": "muitos",
        "blank": "",
        "mixed": "100 pontos",
        "list": [200],
        # Past what a number field is for (and what float8 holds): skipped, not an error.
        "huge": "9" * 400,
    }
    for name, value in values.items():
        ContactFactory(organization=org_a, name=name, custom_fields={"points": value})
    ContactFactory(organization=org_a, name="no field", custom_fields={})
    return values


def test_numeric_comparisons_skip_contacts_whose_field_is_not_a_number(org_a, points):
    assert segment(org_a, {"field": "custom_fields.points", "op": "gte", "value": 100}) == {
        "number",
        "numeric text",
        "padded text",
    }
    assert segment(org_a, {"field": "custom_fields.points", "op": "lt", "value": 100.0}) == {"decimal", "negative"}


def test_a_numeric_comparison_combines_with_other_conditions(org_a, points):
    condition = {
        "all": [
            {"field": "custom_fields.points", "op": "gt", "value": 0},
            {
                "any": [
                    {"field": "name", "op": "startswith", "value": "n"},
                    {"field": "name", "op": "eq", "value": "words"},
                ]
            },
        ]
    }
    assert segment(org_a, condition) == {"number", "numeric text"}


def test_a_text_value_still_compares_as_text(org_a, points):
    assert segment(org_a, {"field": "custom_fields.points", "op": "eq", "value": "muitos"}) == {"words"}
    assert "words" in segment(org_a, {"field": "custom_fields.points", "op": "gt", "value": "a"})
