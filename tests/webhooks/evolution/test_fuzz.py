"""Hypothesis over the Evolution payload shapes (issue 12): never a 5xx, never a lost valid neighbour.

Each example takes a captured payload (tests/fixtures/evolution, v1 and v2) and makes one
to three hostile changes. Posted alone, the answer is a 2xx or a 4xx; an accepted event
is stored. Posted in the same statement as valid events (the group commit, real
concurrent requests on PostgreSQL in autocommit), every valid one is stored and answered 200.
"""

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.webhook_payloads import mutated
from webhooks.evolution import intake
from webhooks.models import WebhookEvent

from .conftest import API_KEY, INSTANCE_NAME, fixture_names, load, post
from .test_concurrent_intake import post_in_thread, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = [load(name) for name in fixture_names()]
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
_ids = itertools.count()


@pytest.fixture
def instance(org_a):
    from tests.factories.instances import EvolutionInstanceFactory

    return EvolutionInstanceFactory(organization=org_a, instance_name=INSTANCE_NAME, api_key=API_KEY)


hostile = st.sampled_from(FIXTURES).flatmap(mutated)


@FUZZ
@given(body=hostile)
def test_a_hostile_payload_alone_is_never_a_5xx(instance, body):
    response = post(instance, body)

    assert response.status_code < 500, (response.status_code, response.content[:300], body[:300])
    if response.status_code == 200 and response.json()["status"] == "accepted":
        assert WebhookEvent.objects.filter(id=response.json()["event_id"]).exists()


def valid_status(message_id: str) -> str:
    payload = load("v2/messages_update_delivered.json")
    payload["data"]["keyId"] = message_id
    return json.dumps(payload)


@pytest.fixture
def held_batches(monkeypatch):
    """Each round's first statement waits until the round's other requests queued behind it or were answered.

    (A payload refused before it is stored, e.g. a 400, never reaches the statement.)
    """
    real, state = intake.store_posted, {"expected": 0, "held": False, "answers": {}}

    def store_posted(events):
        if not state["held"]:
            state["held"] = True
            wait_until(
                lambda: len(intake._posted_batches._queue) + len(state["answers"]) >= state["expected"], timeout=20
            )
        return real(events)

    monkeypatch.setattr(intake, "store_posted", store_posted)
    return state


@settings(FUZZ, max_examples=25)
@given(bad=st.lists(hostile, min_size=1, max_size=3))
def test_valid_events_posted_with_hostile_ones_are_all_stored(instance, held_batches, bad):
    round_id = next(_ids)
    valid = {f"valid {i}": valid_status(f"FUZZ{round_id}X{i}") for i in range(3)}
    bodies = valid | {f"bad {i}": body for i, body in enumerate(bad)}
    answers = {}
    held_batches.update(expected=len(bodies), held=False, answers=answers)
    threads = [post_in_thread(answers, "leader", instance, valid_status(f"FUZZ{round_id}LEAD"))]
    wait_until(lambda: held_batches["held"])
    threads += [post_in_thread(answers, name, instance, body) for name, body in bodies.items()]
    for thread in threads:
        thread.join(timeout=30)

    assert all(response.status_code < 500 for response in answers.values()), {
        name: (r.status_code, r.content[:200]) for name, r in answers.items()
    }
    assert {name: answers[name].status_code for name in valid} == dict.fromkeys(valid, 200)
    stored = set(WebhookEvent.objects.values_list("dedupe_key", flat=True))
    assert {f"status:FUZZ{round_id}X{i}:delivered" for i in range(3)} <= stored
