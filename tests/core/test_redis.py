"""Redis keys start with REDIS_KEY_PREFIX and the database's installation id."""

import pytest
from django.db import connection

from core import redis as wf_redis
from instances import counters

pytestmark = pytest.mark.django_db


def installation_key() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM accounts_installation WHERE id = 1")
        return cursor.fetchone()[0]


def test_every_key_is_under_the_prefix_and_the_installation_id(settings, redis_key_prefix):
    install = installation_key()
    assert len(install) == 12
    assert wf_redis.key("limits", "x") == f"{redis_key_prefix}:{install}:limits:x"


def test_a_fresh_database_inherits_no_counts_from_a_used_redis(settings, org_a):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis")
    from instances.services import record_message_sent
    from tests.factories.instances import WhatsAppInstanceFactory

    instance = WhatsAppInstanceFactory(organization=org_a)
    record_message_sent(instance_id=instance.id)
    client = wf_redis.get_redis()
    assert client.hgetall(counters._hash_key(instance.id))
    with connection.cursor() as cursor:
        # Another database: same ids, its own installation id.
        cursor.execute("UPDATE accounts_installation SET key = 'freshdb00001' WHERE id = 1")
    wf_redis._installation.clear()
    try:
        assert client.hgetall(counters._hash_key(instance.id)) == {}
    finally:
        wf_redis._installation.clear()
