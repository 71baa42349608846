"""The broker settings: Redis by default, RabbitMQ with quorum queues when CELERY_BROKER_URL says amqp."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
NAMES = [
    "CELERY_BROKER_URL",
    "CELERY_BROKER_TRANSPORT_OPTIONS",
    "CELERY_TASK_DEFAULT_QUEUE",
    "CELERY_TASK_DEFAULT_QUEUE_TYPE",
    "CELERY_TASK_DEFAULT_EXCHANGE_TYPE",
]


def broker_settings(**env) -> dict:
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {NAMES!r}}}))"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    answer = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "test-only", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def test_redis_stays_the_default_broker():
    values = broker_settings(REDIS_URL="redis://127.0.0.1:6379/3", REDIS_KEY_PREFIX="p")

    assert values["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"
    assert values["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"] == 3600
    assert values["CELERY_TASK_DEFAULT_QUEUE_TYPE"] is None and values["CELERY_TASK_DEFAULT_QUEUE"] == "celery"


def test_an_amqp_broker_gets_quorum_queues_a_topic_exchange_and_publisher_confirms():
    values = broker_settings(
        REDIS_URL="redis://127.0.0.1:6379/3",
        CELERY_BROKER_URL="amqp://wf:secret@rabbit-1:5672/whatsflow",
        CELERY_TASK_DEFAULT_QUEUE="whatsflow",
    )

    assert values["CELERY_BROKER_URL"] == "amqp://wf:secret@rabbit-1:5672/whatsflow"
    assert values["CELERY_TASK_DEFAULT_QUEUE_TYPE"] == "quorum"
    assert values["CELERY_TASK_DEFAULT_EXCHANGE_TYPE"] == "topic"  # native delayed delivery needs it
    assert values["CELERY_BROKER_TRANSPORT_OPTIONS"] == {"confirm_publish": True}  # no visibility timeout
    assert values["CELERY_TASK_DEFAULT_QUEUE"] == "whatsflow"
