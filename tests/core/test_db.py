"""Web workers' connections do not all reconnect at once (core/db.py)."""

import time

from django.db import connection

from core.db import spread_reconnects


def test_each_connection_lives_a_random_half_to_all_of_conn_max_age(db, settings):
    max_age = connection.settings_dict["CONN_MAX_AGE"]
    assert max_age  # the tests run on PostgreSQL with persistent connections

    ages = set()
    for _ in range(20):
        spread_reconnects(sender=type(connection), connection=connection)
        ages.add(round(connection.close_at - time.monotonic(), 3))

    assert all(max_age / 2 - 1 <= age <= max_age for age in ages)
    assert len(ages) > 10  # spread, not one age for all


def test_a_connection_without_a_max_age_keeps_none(db, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    connection.close_at = None

    spread_reconnects(sender=type(connection), connection=connection)

    assert connection.close_at is None
