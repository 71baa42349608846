"""Signals other apps connect to, in their own `AppConfig.ready()`.

`connection_changed` is sent after commit, once per real change of an instance's
connection state, with `instance`, `old_state`, `new_state` and `reason` (campaigns
pause what sends through a closed instance and resume when it opens again).

`sandbox_event_played` is sent with `payload` for each event the sandbox plays back.
"""

from django.dispatch import Signal

connection_changed = Signal()

# Sent with `payload`, an Evolution-v2-shaped webhook payload the sandbox plays back
# (docs: README "WhatsApp instances"); the webhooks app feeds it to its intake.
sandbox_event_played = Signal()
