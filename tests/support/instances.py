"""Providers' recorded answers and instances' rows as the tests read them."""

import json
from pathlib import Path

from instances import counters
from instances.models import WhatsAppInstance

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def answer(provider: str, name: str):
    return json.loads((FIXTURES / provider / "answers" / f"{name}.json").read_text())


def flushed(instance) -> WhatsAppInstance:
    """The instance's row after the counters recorded in Redis are applied."""
    counters.flush()
    return WhatsAppInstance.objects.get(id=instance.id)
