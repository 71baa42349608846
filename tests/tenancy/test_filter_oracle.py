"""Filters by another organization's ids answer exactly like filters by ids that don't exist.

Issue 12, finding 7: with org B's token, `flows?template=<A's id>` answered 200-empty
while a nonexistent id answered 400, which told B which ids A has.
"""

import pytest

from tests.factories.campaigns import CampaignFactory, ExecutionFactory
from tests.factories.flows import ConversationFactory, FlowMessageFactory, file_for, subflow_for

pytestmark = pytest.mark.django_db

NOWHERE = 987654321


@pytest.fixture
def a_ids(org_a):
    subflow = subflow_for(org_a)
    conversation = ConversationFactory(organization=org_a, flow=subflow.flow)
    received = file_for(org_a)
    FlowMessageFactory(subflow=subflow, text="Oi")
    campaign = CampaignFactory(organization=org_a)
    ExecutionFactory(organization=org_a, campaign=campaign)
    return {
        "template": subflow.flow.template_id,
        "flow": subflow.flow_id,
        "subflow": subflow.id,
        "campaign": campaign.id,
        "contact": conversation.contact_id,
        "instance": conversation.instance_id,
        "conversation": received.conversation_id,
        "file_contact": received.contact_id,
    }


FILTERS = [
    ("flows", "template", "template"),
    ("subflows", "flow", "flow"),
    ("subflows", "parent", "subflow"),
    ("flow-messages", "subflow", "subflow"),
    ("executions", "campaign", "campaign"),
    ("conversations", "contact", "contact"),
    ("conversations", "instance", "instance"),
    ("conversations", "flow", "flow"),
    ("received-files", "conversation", "conversation"),
    ("received-files", "contact", "file_contact"),
]


@pytest.mark.parametrize(("endpoint", "param", "kind"), FILTERS)
def test_another_organizations_id_answers_like_a_missing_one(charlie_client, a_ids, endpoint, param, kind):
    theirs = charlie_client.get(f"/api/v1/{endpoint}/?{param}={a_ids[kind]}")
    missing = charlie_client.get(f"/api/v1/{endpoint}/?{param}={NOWHERE}")

    assert theirs.status_code == missing.status_code
    assert theirs.json() == missing.json()


@pytest.mark.parametrize(("endpoint", "param", "kind"), FILTERS)
def test_the_owner_still_filters_by_it(alice_client, a_ids, endpoint, param, kind):
    response = alice_client.get(f"/api/v1/{endpoint}/?{param}={a_ids[kind]}")

    assert response.status_code == 200
    if param != "parent":
        body = response.json()
        assert (len(body) if endpoint == "conversations" else body["count"]) >= 1  # there: the old bare array


@pytest.mark.parametrize("value", ["x", "1e999", "-1", "99999999999999999999999"])
def test_a_malformed_id_is_a_400_naming_the_filter(charlie_client, value):
    response = charlie_client.get(f"/api/v1/flows/?template={value}")

    assert response.status_code == 400 and "template" in response.json()
