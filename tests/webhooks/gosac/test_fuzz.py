"""Hypothesis over the GOSAC payload shapes (issue 12): never a 5xx, never a lost valid neighbour.

Each example takes a captured `messages:created` payload (tests/fixtures/gosac) and makes
one to three hostile changes; it is posted between two valid messages, and both valid
ones are stored in the history whatever the hostile one did.
"""

import itertools
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flows.models import MessageHistory
from tests.support.gosac import FIXTURES, gosac_payload
from tests.support.webhook_payloads import mutated

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_waits")]

PAYLOADS = [json.loads(path.read_text()) for path in sorted(FIXTURES.glob("messages_created_*.json"))]
_ids = itertools.count()


def post(gosac_instance, client, body: str):
    url = f"/api/webhooks/gosac/{gosac_instance.webhook_secret}/"
    return client.generic("POST", url, body, content_type="application/json")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(body=st.sampled_from(PAYLOADS).flatmap(mutated))
@example(body=json.dumps(gosac_payload("text", body="Oi\x00 \ud800")))
@example(body='{"type": "messages:created", "data": ' + "[" * 5_000 + "]" * 5_000 + "}")
def test_a_hostile_payload_is_never_a_5xx_and_its_neighbours_are_kept(gosac_instance, anon_client, body):
    round_id = next(_ids)
    before, after = (json.dumps(gosac_payload("text", id=f"fuzz-{round_id}-{side}")) for side in ("a", "b"))

    answers = [post(gosac_instance, anon_client, text) for text in (before, body, after)]

    assert all(response.status_code < 500 for response in answers), [(r.status_code, r.content[:200]) for r in answers]
    assert answers[0].status_code == answers[2].status_code == 200
    kept = MessageHistory.objects.filter(provider_message_id__in=[f"fuzz-{round_id}-a", f"fuzz-{round_id}-b"])
    assert kept.count() == 2
