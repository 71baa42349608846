"""One claimed batch on its way out: steps 2 and 3 of the dispatcher's claim → commit → send → record.

`campaigns.sending.dispatch` owns step 1 (the claim) and the loop around a batch: it reserves each
recipient's send slot (`limits`) and hands the recipient to `Batch.send()`. This module
owns what happens then:

2. `Batch.send()` re-checks the claim and the contact's opt-out and sends the recipient's
   first message(s) through the flow engine (`flows.starting.send_start`). The check is one
   query for the whole batch and each send acts on a reading at most `RECHECK_SECONDS` old:
   the claim's own reading when the batch goes out at once, a fresh one after any wait (rate
   limits) or slow sends.
3. Outcomes are recorded outside the provider call. Failures at once: a provider that proved
   it did not accept goes back to `pending` with backoff; a final refusal is `failed`;
   anything ambiguous is `unknown` and is never sent again automatically. Only a recipient
   whose request may have left can be ambiguous: just before the provider client writes it,
   `Batch.mark` stores `attempted_at` (one conditional UPDATE, committed, that also proves the
   claim is still this batch's), and whatever fails before that mark (rendering, the database,
   Redis) puts the recipient back to `pending`. Successes are
   recorded together (`Batch.record`: their conversations in one transaction, then `sent`
   with each provider message id), at the latest `RECORD_SECONDS` after the first of them
   went out, before any wait and when the batch ends.
`send_one()` does the same for a single claimed recipient; `release()` gives claimed
recipients back unsent (a refusal of the whole instance here, no free slot in the dispatcher).
"""

import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import windows
from campaigns.models import Campaign, CampaignLog, Execution, Recipient
from campaigns.models.log import log
from campaigns.sending import cloud_errors
from campaigns.transitions import advance_recipients
from core.outages import is_outage
from instances.providers.base import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable, watching_sends
from instances.providers.cloud import MetaRefusal

logger = logging.getLogger(__name__)

# A send acts on a reading of its claim and opt-out at most this old (seconds).
RECHECK_SECONDS = 0.1
# Sends that went out are recorded at the latest this long after the first of them (seconds).
RECORD_SECONDS = 0.1

SENT, FAILED, RETRY, UNKNOWN, OPTED_OUT, LOST, RELEASED = (
    "sent",
    "failed",
    "retry",
    "unknown",
    "opted_out",
    "lost",
    "released",
)


class ClaimLost(Exception):
    """The recipient's claim is no longer this batch's (its lease expired): nothing was sent."""


def default_start(**kwargs):
    """Send a recipient's first message(s); its batch stores the conversation (`Batch.record`)."""
    from flows.starting import send_start

    return send_start(**kwargs)


def release(recipients: list[Recipient], *, until) -> int:
    """Give claimed recipients back (nothing was sent): they are due again at `until`."""
    claims = Recipient.objects.filter(id__in=[r.id for r in recipients], status=Recipient.Status.SENDING)
    claimed_at = {r.claimed_at for r in recipients}
    if len(claimed_at) == 1 and None not in claimed_at:  # one claim's: never another dispatcher's since
        claims = claims.filter(claimed_at=claimed_at.pop())
    return advance_recipients(
        claims,
        Recipient.Status.PENDING,
        next_attempt_at=until,
        lease_expires_at=None,
    )


def send_one(recipient: Recipient, *, campaign: Campaign, execution: Execution, instance, start=default_start) -> str:
    """Send one claimed recipient through `instance` and record the outcome; returns it."""
    batch = Batch([recipient], campaign=campaign, execution=execution, start=start, checked=False)
    try:
        return batch.send(recipient, instance=instance)
    finally:
        batch.record()


class Batch:
    """Claimed recipients on their way out: re-checked and recorded in bulk (module doc, 2 and 3)."""

    def __init__(self, recipients: list[Recipient], *, campaign, execution, start=default_start, checked=True):
        self.campaign, self.execution, self.start = campaign, execution, start
        self.unsent = {recipient.id: recipient for recipient in recipients}
        self.lost: set[int] = set()
        self.marked: set[int] = set()  # their request may have left (`mark`)
        # `checked`: the recipients were just read with their contacts (the claim).
        self.checked_at = time.monotonic() if checked else None
        self.started: list[tuple] = []  # (recipient, instance, sent start, at), not recorded yet
        self.first_started_at = 0.0

    def send(self, recipient: Recipient, *, instance) -> str:
        """Send one recipient of the batch unless it opted out or its claim was lost; returns the outcome."""
        if self.checked_at is None or time.monotonic() - self.checked_at > RECHECK_SECONDS:
            self.recheck()
        self.unsent.pop(recipient.id, None)
        if recipient.id in self.lost:
            return LOST  # the lease expired and the sweep took it: never send it now
        campaign, execution = self.campaign, self.execution
        at = windows.now()
        if recipient.contact.opted_out_at is not None or not recipient.contact.is_active:
            advance_recipients(
                Recipient.objects.filter(id=recipient.id),
                Recipient.Status.OPTED_OUT,
                at=at,
                lease_expires_at=None,
                error=_("Opted out before the send."),
            )
            log(
                campaign=campaign,
                execution=execution,
                recipient=recipient,
                type=CampaignLog.Type.CONTACT_OPTED_OUT,
                message=_("%(phone)s opted out; not sent.") % {"phone": recipient.phone},
            )
            return OPTED_OUT
        try:
            with watching_sends(lambda: self.mark(recipient)):
                started = self.start(
                    contact=recipient.contact,
                    instance=instance,
                    flow=campaign.flow,
                    variables=recipient.variables,
                    external_ticket_id="",
                )
        except ClaimLost:
            return LOST
        except MetaRefusal as error:
            return cloud_errors.apply_refusal(
                recipient, error, campaign=campaign, execution=execution, instance=instance, at=at
            )
        except ProviderRejected as error:
            if getattr(error, "instance_level", False):
                release([recipient], until=at)
                return RELEASED
            return _end(recipient, Recipient.Status.FAILED, error, campaign, execution, instance)
        except ProviderUnavailable as error:
            return _retry_or_fail(recipient, error, campaign, execution, instance, at=at)
        except ProviderOutcomeUnknown as error:
            return _end(recipient, Recipient.Status.UNKNOWN, error, campaign, execution, instance)
        except Exception as error:
            logger.exception("recipient=%s send raised", recipient.id)
            if recipient.id in self.marked:
                return _end(recipient, Recipient.Status.UNKNOWN, error, campaign, execution, instance)
            return requeue_unsent(recipient, error, campaign, execution, instance, at=at)
        if not self.started:
            self.first_started_at = time.monotonic()
        self.started.append((recipient, instance, started, at))
        if time.monotonic() - self.first_started_at >= RECORD_SECONDS:
            self.record()
        return SENT

    def mark(self, recipient: Recipient) -> None:
        """Note durably that the recipient's request may leave now; refuse if its claim was taken back."""
        if recipient.id in self.marked:
            return
        if connection.vendor == "postgresql":
            marked = _mark_on_postgresql(recipient)
        else:
            claim = Recipient.objects.filter(id=recipient.id, status=Recipient.Status.SENDING)
            if recipient.claimed_at is not None:
                claim = claim.filter(claimed_at=recipient.claimed_at)
            marked = claim.update(attempted_at=timezone.now())
        if not marked:
            self.lost.add(recipient.id)
            raise ClaimLost(recipient.id)
        self.marked.add(recipient.id)

    def recheck(self) -> None:
        """Re-read the claim and the contact's opt-out of every recipient not sent yet, in one query."""
        states = {
            recipient_id: (opted_out_at, is_active)
            for recipient_id, opted_out_at, is_active in Recipient.objects.filter(
                id__in=list(self.unsent), status=Recipient.Status.SENDING
            ).values_list("id", "contact__opted_out_at", "contact__is_active")
        }
        for recipient_id, recipient in self.unsent.items():
            if recipient_id not in states:
                self.lost.add(recipient_id)
            else:
                recipient.contact.opted_out_at, recipient.contact.is_active = states[recipient_id]
        self.checked_at = time.monotonic()

    def record(self) -> None:
        """Store the conversations of the sends not recorded yet, then mark their recipients `sent`."""
        if not self.started:
            return
        from flows.starting import store_starts

        started, self.started = self.started, []
        campaign, execution = self.campaign, self.execution
        try:
            conversations = store_starts([sent_start for _, _, sent_start, _ in started])
        except Exception as error:
            if is_outage(error):
                self.started = started + self.started  # kept for a retry once the database is back
                raise
            # They went out, but nothing says so: the same doubt as a send that raised.
            logger.exception("execution=%s storing %d sent starts raised", execution.id, len(started))
            for recipient, instance, _, _ in started:
                _end(recipient, Recipient.Status.UNKNOWN, error, campaign, execution, instance)
            return
        rows = [
            (recipient.id, instance.id, conversation.id, sent_start.provider_message_id, at)
            for (recipient, instance, sent_start, at), conversation in zip(started, conversations, strict=True)
        ]
        with transaction.atomic():
            # Ids and send times first, so that the move to `sent` (and the outbound webhook's
            # event written with it) sees them; each row keeps its own send time.
            record_what_was_sent(rows)
            advance_recipients(
                Recipient.objects.filter(id__in=[row[0] for row in rows]),
                Recipient.Status.SENT,
                at=started[0][3],
                lease_expires_at=None,
                sent_at=Coalesce(F("sent_at"), Value(started[0][3])),
            )
            # A flow that ended with its first messages completed before its recipient knew
            # the conversation, so `conversation_completed` found nobody: complete them here.
            finished = [row[0] for row, c in zip(rows, conversations, strict=True) if c.status == "completed"]
            if finished:
                advance_recipients(Recipient.objects.filter(id__in=finished), Recipient.Status.COMPLETED)


def record_what_was_sent(rows: list[tuple]) -> int:
    """Each recipient's instance, conversation, provider message id and send time, in one UPDATE.

    `rows` are (recipient id, instance id, conversation id, provider message id, sent at). Only
    recipients without a message id yet: one some other change got to first keeps its status
    and still gets these.
    """
    fresh = Recipient.objects.filter(provider_message_id="")
    if connection.vendor != "postgresql":
        fields = ["instance_id", "conversation_id", "provider_message_id", "sent_at"]
        return fresh.bulk_update(
            [Recipient(id=row[0], **dict(zip(fields, row[1:], strict=True))) for row in rows], fields
        )
    values = ", ".join(["(%s::bigint, %s::bigint, %s::bigint, %s::varchar, %s::timestamptz)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Recipient._meta.db_table} AS r
                SET instance_id = v.instance_id, conversation_id = v.conversation_id,
                    provider_message_id = v.message_id, sent_at = v.sent_at
                FROM (VALUES {values}) AS v (id, instance_id, conversation_id, message_id, sent_at)
                WHERE r.id = v.id AND r.provider_message_id = ''""",
            [value for row in rows for value in row],
        )
        return cursor.rowcount


def _retry_or_fail(recipient, error, campaign, execution, instance, *, at) -> str:
    """The provider proved it did not accept: pending again after a backoff, or failed past the retries."""
    if not campaign.retry_failed or recipient.retry_count >= campaign.max_retries:
        return _end(recipient, Recipient.Status.FAILED, error, campaign, execution, instance)
    delay = min(settings.CAMPAIGNS_RETRY_MAX_SECONDS, settings.CAMPAIGNS_RETRY_BASE_SECONDS * 2**recipient.retry_count)
    delay *= random.uniform(0.8, 1.2)
    advance_recipients(
        Recipient.objects.filter(id=recipient.id),
        Recipient.Status.PENDING,
        at=at,
        lease_expires_at=None,
        next_attempt_at=at + timedelta(seconds=delay),
        retry_count=recipient.retry_count + 1,
        error=str(error)[:1000],
    )
    return RETRY


def requeue_unsent(recipient, error, campaign, execution, instance, *, at) -> str:
    """Nothing reached the provider: pending again, soon after an outage, else after a backoff.

    An outage (database, Redis) is not the message's fault and counts no retry; any other error
    (a flow that cannot render) counts one, and fails the recipient past the campaign's retries.
    """
    retries = recipient.retry_count
    if is_outage(error):
        delay = settings.CAMPAIGNS_OUTAGE_RETRY_SECONDS
    elif retries >= campaign.max_retries:
        return _end(recipient, Recipient.Status.FAILED, error, campaign, execution, instance)
    else:
        retries += 1
        delay = settings.CAMPAIGNS_RETRY_BASE_SECONDS * 2**recipient.retry_count
        delay = min(settings.CAMPAIGNS_RETRY_MAX_SECONDS, delay)
    advance_recipients(
        Recipient.objects.filter(id=recipient.id),
        Recipient.Status.PENDING,
        at=at,
        lease_expires_at=None,
        next_attempt_at=at + timedelta(seconds=delay),
        retry_count=retries,
        error=str(error)[:1000],
    )
    return RETRY


def _end(recipient, status, error, campaign, execution, instance) -> str:
    """Record a final `failed` or `unknown` with its reason and log it; returns the outcome."""
    advance_recipients(
        Recipient.objects.filter(id=recipient.id),
        status,
        lease_expires_at=None,
        error=str(error)[:1000],
        instance_id=instance.id,
    )
    failed = status == Recipient.Status.FAILED
    log(
        campaign=campaign,
        execution=execution,
        recipient=recipient,
        instance=instance,
        type=CampaignLog.Type.MESSAGE_FAILED if failed else CampaignLog.Type.MESSAGE_UNKNOWN,
        severity=CampaignLog.Severity.ERROR if failed else CampaignLog.Severity.WARNING,
        message=f"{recipient.phone}: {error}",
        details={"error_type": type(error).__name__},
    )
    return FAILED if failed else UNKNOWN


# One statement a send, on the hot path: written out rather than built by the ORM each time (the
# building cost twice the round trip). Committed without waiting for the disk, in the same
# statement: the mark must outlive this worker, which it does; only PostgreSQL itself crashing in
# the next ~0.6 s (3 x wal_writer_delay) could lose it, and with it the doubt (one re-send).
_MARK_SQL = (
    "UPDATE campaigns_recipient SET attempted_at = %s WHERE id = %s AND status = 'sending'"
    " AND (%s::timestamptz IS NULL OR claimed_at = %s::timestamptz)"
    " AND set_config('synchronous_commit', 'off', true) = 'off'"
)


def _mark_on_postgresql(recipient: Recipient) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_MARK_SQL, [timezone.now(), recipient.id, recipient.claimed_at, recipient.claimed_at])
        return cursor.rowcount
