"""A flow message's delay is bounded (issue 12, finding 3)."""

import pytest

from flows.models import FlowMessage
from tests.factories.flows import subflow_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("delay", [10**9, -1])
def test_an_out_of_range_delay_is_a_400(alice_client, org_a, delay):
    subflow = subflow_for(org_a)

    response = alice_client.post(
        "/api/v1/flow-messages/", {"subflow": subflow.id, "text": "x", "delay_seconds": delay}, format="json"
    )

    assert response.status_code == 400 and "delay_seconds" in response.json()
    assert not FlowMessage.objects.exists()
