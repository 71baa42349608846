"""Action runs on two real Celery workers: a run whose task is delivered several times calls the partner once."""

import pytest
from django.conf import settings

from integrations.models import ActionRun
from integrations.services import actions
from integrations.tasks import run_action
from tests.support.workers import Workers, publish_under_test_prefix, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers(request, encryption_keys):
    if not settings.REDIS_URL or "postgres" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("worker tests run on PostgreSQL and Redis")
    publish_under_test_prefix()
    pool = Workers(2, env={"INTEGRATIONS_ENCRYPTION_KEYS": encryption_keys[0]})
    request.addfinalizer(pool.stop)
    return pool.start()


def test_a_run_queued_many_times_opens_one_ticket(org_a, pontta_integration, fake_pontta, workers):
    fake_pontta.respond("POST", r"^/tickets$", handler=fake_pontta._create_ticket, delay=0.5)
    fake_pontta._script.insert(0, fake_pontta._script.pop())  # slow enough for the duplicates to overlap

    run = actions.request_run(
        organization_id=org_a.id,
        action="pontta_create_ticket",
        integration_name="pontta-loja",
        params={"contact_id": "+5511988887777", "subject": "Pedido A1", "message": "Oi"},
        key="test:workers",
        reference="test:1",
    )
    for _ in range(5):
        run_action.delay(run.id)

    def finished():
        """the run finished"""
        return ActionRun.objects.filter(id=run.id, status__in=ActionRun.FINISHED).exists()

    wait_for(finished, timeout=60)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.attempts == 1 and run.result["ticket_id"] == "1001"
    assert len(fake_pontta.tickets) == 1 and len(fake_pontta.requests_to(r"^/tickets$")) == 1
