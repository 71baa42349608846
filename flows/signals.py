"""Signals other apps connect to (in their AppConfig.ready) without flows knowing them."""

from django.dispatch import Signal

# Sent after commit when a conversation reaches the end of its flow: `conversation=`.
conversation_completed = Signal()
