"""Signals the apps above connect to (in their AppConfig.ready); integrations calls no one above."""

from django.dispatch import Signal

# Sent after commit when an action run finished (succeeded, failed or unknown): `run=`.
action_finished = Signal()
