"""Signals other apps connect to, in their own `AppConfig.ready()`.

`connection_changed` is sent after commit, once per real change of an instance's
connection state, with `instance`, `old_state`, `new_state` and `reason` (campaigns
pause what sends through a closed instance and resume when it opens again).
"""

from django.dispatch import Signal

connection_changed = Signal()
