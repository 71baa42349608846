import pytest

from config.celery import app as celery_app
from flows.models import SystemSetting


@pytest.fixture
def no_waits(org_a):
    """No debounce and no cooldown: each message is processed as soon as it is queued."""
    for key in ("DEBOUNCE_TIME", "MESSAGE_COOLDOWN"):
        SystemSetting.objects.create(organization=org_a, key=key, value="0", value_type="number")


@pytest.fixture
def eager_celery():
    """Plumbing only: queued tasks run in the test's process and transaction."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False
