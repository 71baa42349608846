import socket

import pytest

from instances.signals import connection_changed


@pytest.fixture
def closed_port():
    """A local port nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def connection_events():
    calls = []

    def listener(sender, **kwargs):
        calls.append(kwargs)

    connection_changed.connect(listener, weak=False)
    yield calls
    connection_changed.disconnect(listener)
