import json
import socket
from pathlib import Path

import pytest

from instances import counters
from instances.models import WhatsAppInstance
from instances.signals import connection_changed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def answer(provider: str, name: str):
    return json.loads((FIXTURES / provider / "answers" / f"{name}.json").read_text())


def flushed(instance) -> WhatsAppInstance:
    """The instance's row after the counters recorded in Redis are applied."""
    counters.flush()
    return WhatsAppInstance.objects.get(id=instance.id)


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
