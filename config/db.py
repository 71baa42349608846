"""Database connection tuning for long-running web workers."""

import random
import time


def spread_reconnects(sender, connection, **kwargs):
    """`connection_created` receiver: a connection lives a random half to all of CONN_MAX_AGE.

    A worker's threads open their connections at its first requests; with the same age
    they all reconnect in the same second, every CONN_MAX_AGE, and under load that second
    stalls the worker (it was the webhook endpoint's p99 in bench/webhooks.py).
    """
    max_age = connection.settings_dict.get("CONN_MAX_AGE")
    if max_age:
        connection.close_at = time.monotonic() + max_age * random.uniform(0.5, 1.0)
