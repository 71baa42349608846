"""RabbitMQ as the broker: a campaign sent by real workers over quorum queues, each recipient once."""

import socket
import uuid
from collections import Counter

import pytest
from kombu import Connection, Queue

from campaigns.models import Recipient
from campaigns.services import starting
from contacts.models import Contact
from tests.factories.campaigns import CampaignFactory, make_evolution_instance
from tests.support.workers import Workers, publish_to_broker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
SEND = r"^/message/sendText/"


def rabbitmq_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def queue(settings):
    if not settings.REDIS_URL or "postgres" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("worker tests run on PostgreSQL and Redis")
    if not rabbitmq_reachable():
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672 (guest/guest); .ci/run starts it")
    name = f"test-{uuid.uuid4().hex[:12]}"  # this test's own queue: other runs share the broker
    yield name
    with Connection(RABBITMQ) as connection:
        Queue(name, durable=True, queue_arguments={"x-queue-type": "quorum"})(connection.default_channel).delete()


@pytest.fixture
def rabbitmq_workers(request, queue):
    undo = publish_to_broker(
        RABBITMQ,
        task_default_queue=queue,
        task_default_queue_type="quorum",
        task_default_exchange_type="topic",
        broker_transport_options={"confirm_publish": True},
    )
    request.addfinalizer(undo)
    pool = Workers(
        2, env={"CELERY_BROKER_URL": RABBITMQ, "CELERY_TASK_DEFAULT_QUEUE": queue, "CAMPAIGNS_TASK_BUDGET_SECONDS": "3"}
    )
    request.addfinalizer(pool.stop)
    return pool.start()


def test_a_campaign_over_rabbitmq_quorum_queues_sends_every_recipient_once(
    org_a, fake_provider, queue, rabbitmq_workers
):
    Contact.objects.bulk_create(
        [Contact(organization=org_a, phone=f"+5511{9100000 + i:08d}", name=f"Cliente {i}") for i in range(300)]
    )
    campaign = CampaignFactory(organization=org_a, instances=[make_evolution_instance(org_a, fake_provider.url)])
    execution = starting.start_campaign(campaign=campaign)

    def finished():
        """the execution to finish over RabbitMQ"""
        execution.refresh_from_db()
        return execution.status == "completed"

    wait_for(finished, timeout=150)

    sent = Counter(r.json["number"] for r in fake_provider.requests_to(SEND))
    assert len(sent) == 300 and set(sent.values()) == {1}
    assert Counter(Recipient.objects.filter(execution=execution).values_list("status", flat=True)) == {"sent": 300}
    # The workers declared the queue as a quorum queue: declaring it classic is refused.
    with Connection(RABBITMQ) as connection, pytest.raises(Exception, match="x-queue-type"):
        Queue(queue, durable=True, queue_arguments={"x-queue-type": "classic"})(connection.channel()).declare()
