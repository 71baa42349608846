"""The cache and Redis, and Celery's broker (Redis in production, RabbitMQ to scale out, a folder embedded)."""

from config.settings.core import TIME_ZONE
from config.settings.env import VAR_DIR, env

# CACHE AND REDIS
# ------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
# Every key this process writes to Redis starts with this (tests give each run its own).
REDIS_KEY_PREFIX = env("REDIS_KEY_PREFIX", default="wf")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            # Under REDIS_KEY_PREFIX and this database's installation id, as every key (core.redis).
            "KEY_FUNCTION": "core.redis.cache_key",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# CELERY
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
# ------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
# The queue tasks go to; every worker consumes it (a test run or a bench may name its own).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
if CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://")):
    # RabbitMQ for scale-out (docs/operations.md): quorum queues are replicated and durable;
    # with them Celery turns countdowns into RabbitMQ's native delayed delivery (which
    # needs a topic exchange) and uses per-consumer prefetch. A task is acknowledged when
    # it ends (the idempotent ones are `acks_late`) and RabbitMQ has no visibility timeout:
    # an unacknowledged task goes back only when its worker's connection drops.
    # https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/rabbitmq.html
    CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
    CELERY_WORKER_DETECT_QUORUM_QUEUES = True
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
    # RabbitMQ closes a channel whose delivery stays unacknowledged past consumer_timeout
    # (30 min by default): longer than any of our tasks runs (they work in budgets).
elif REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any countdown we queue; longer waits live in the database.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "global_keyprefix": f"{REDIS_KEY_PREFIX}:",
    }
else:
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
