"""Two concurrent posts of one Idempotency-Key start the subscribed campaign once (real PostgreSQL)."""

import threading

import pytest
from django.db import connection

from campaigns.models import Campaign, Execution, InboundEvent
from campaigns.services.events import receive_event
from tests.factories.campaigns import CampaignFactory, make_flow


@pytest.mark.django_db(transaction=True)
def test_one_key_posted_twice_at_once_starts_once(org_a):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks")
    campaign = CampaignFactory(
        organization=org_a,
        flow=make_flow(org_a, "Olá", wait_for_reply=False),
        trigger_type=Campaign.TriggerType.WEBHOOK,
        trigger_config={"event": "payment.overdue"},
        max_concurrent_executions=10,
        status=Campaign.Status.ACTIVE,
    )
    barrier = threading.Barrier(2)
    answers, errors = [], []

    def post():
        try:
            barrier.wait()
            answers.append(
                receive_event(
                    organization=org_a,
                    event="payment.overdue",
                    phone="+5511988887777",
                    name="Ana",
                    data={"amount": "10"},
                    idempotency_key="same-key",
                )
            )
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors, errors
    assert sorted(replayed for _row, replayed in answers) == [False, True]
    assert Execution.objects.filter(campaign=campaign).count() == 1
    assert InboundEvent.objects.filter(idempotency_key="same-key").count() == 1
    assert answers[0][0].id == answers[1][0].id
    # The replay answers what the first request started, not an empty row.
    assert all(len(row.result["started"]) == 1 for row, _replayed in answers)
