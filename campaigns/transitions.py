"""Recipients' status transitions: the one function every status change goes through.

The machine itself is written in `Recipient`'s docstring. A move that someone subscribes to
writes its integrations outbox rows (`campaigns.outbound`) in the same statement.
"""

from datetime import datetime

from django.utils import timezone

from campaigns.models import Recipient
from campaigns.outbound import move_with_events, recipient_event_wanted


def recipient_sources(to: str) -> list[str]:
    """The statuses a recipient may move to `to` from (the machine in Recipient's docstring)."""
    if to in Recipient.PROGRESS:
        earlier = Recipient.PROGRESS[: Recipient.PROGRESS.index(to)]
        return ["sending", "unknown", *earlier]
    return {
        "sending": ["pending"],
        "pending": ["sending", *Recipient.REQUEUEABLE],
        "failed": ["pending", "sending", "sent"],
        "unknown": ["sending"],
        # An opt-out reply answers a message already sent: its recipient ends opted out.
        "opted_out": ["pending", "sending", "unknown", *Recipient.PROGRESS[:4]],
        "skipped": ["pending"],
    }[to]


def advance_recipients(
    queryset, to: str, *, at: datetime | None = None, organization_id: int | None = None, **fields
) -> int:
    """Move the recipients of `queryset` to `to` where the machine allows; returns how many moved.

    Recipients already past `to` keep their status; a progress status arriving late fills its
    own empty timestamp only (a `delivered` after `read`). Every status change goes through here.
    A caller that knows the recipients' organization passes `organization_id`: only that
    organization's subscriptions are then looked at (another's cost it nothing).
    """
    at = at or timezone.now()
    stamp = Recipient.TIMESTAMP_OF.get(to)
    values = {"status": to, **fields}
    if stamp and stamp not in values:
        values[stamp] = at
    movable = queryset.filter(status__in=recipient_sources(to))
    late = None
    if to in Recipient.PROGRESS and to != "sent":
        later = Recipient.PROGRESS[Recipient.PROGRESS.index(to) + 1 :]
        # A delivery or read reported after an opt-out reply still happened.
        reached = [*later, "opted_out"] if to != "replied" else later
        late = queryset.filter(status__in=reached, **{f"{stamp}__isnull": True})
    if recipient_event_wanted(to, organization_id):
        # Someone subscribes: the outbox rows are written by the statement that moves them.
        return move_with_events(
            queryset=movable, values=values, to=to, organization_id=organization_id, late=late, at=at
        )
    moved = movable.update(**values)
    if late is not None:
        late.update(**{stamp: at})
    return moved
