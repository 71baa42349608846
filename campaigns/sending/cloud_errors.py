"""What Meta's answer about a Cloud API message means for its recipient.

The codes and their actions are one table (`instances.cloud_errors`); this module applies
an action to a recipient, in two moments:
- `apply_refusal()`: the dispatcher's send was refused synchronously (a `MetaRefusal`):
  retried after the action's wait (growing, up to its attempts), failed, or failed with
  the contact marked not reachable, or failed with the execution paused (every other
  recipient of the step would be refused the same way).
- `apply_failed_status()`: a `failed` status webhook for a message Meta had accepted.
Either way Meta's error is kept as it came on `Recipient.provider_error`.
"""

from datetime import timedelta

from django.db.models import Q
from django.utils.translation import gettext as _

from campaigns.models import CampaignLog, Execution, Recipient
from campaigns.models.log import log
from campaigns.services.controls import pause_execution
from campaigns.transitions import advance_recipients
from contacts.models import Contact
from instances.cloud_errors import FAIL, INSTANCE, STOP_STEP, UNREACHABLE, WINDOW_CLOSED, action_for

RETRY, FAILED, RELEASED = "retry", "failed", "released"


def apply_refusal(recipient: Recipient, error, *, campaign, execution, instance, at) -> str:
    """A claimed recipient whose send Meta refused; returns the dispatcher's outcome word."""
    action, raw = error.action, error.meta
    recipients = Recipient.objects.filter(id=recipient.id)
    if action.kind == INSTANCE:
        # The number's token or account: nothing was sent, and the number is closed by now.
        advance_recipients(recipients, Recipient.Status.PENDING, next_attempt_at=at, lease_expires_at=None)
        return RELEASED
    if action.retryable and recipient.retry_count < action.max_attempts:
        wait = action.wait_before(recipient.retry_count)
        advance_recipients(
            recipients,
            Recipient.Status.PENDING,
            at=at,
            lease_expires_at=None,
            next_attempt_at=at + timedelta(seconds=wait),
            retry_count=recipient.retry_count + 1,
            error=str(error)[:1000],
            provider_error=raw,
        )
        return RETRY
    reason = _failure_reason(action, raw)
    advance_recipients(
        recipients,
        Recipient.Status.FAILED,
        lease_expires_at=None,
        error=reason[:1000],
        provider_error=raw,
        instance_id=instance.id,
    )
    log(
        campaign=campaign,
        execution=execution,
        recipient=recipient,
        instance=instance,
        type=CampaignLog.Type.MESSAGE_FAILED,
        severity=CampaignLog.Severity.ERROR,
        message=f"{recipient.phone}: {reason}",
        details={"error_type": type(error).__name__, "meta_error": raw, "action": action.kind},
    )
    if action.kind == UNREACHABLE:
        mark_unreachable(contact_ids=[recipient.contact_id], at=at)
    elif action.kind == STOP_STEP:
        pause_execution(execution=execution, reason=Execution.PauseReason.MESSAGE_REFUSED, detail=reason)
    return FAILED


def apply_failed_status(*, instance, message_id: str, error: dict, at) -> int:
    """Keep Meta's error on the recipients of a message reported `failed`; returns how many."""
    if not error:
        return 0
    recipients = Recipient.objects.filter(instance_id=instance.id, provider_message_id=message_id)
    unrecorded = Q(provider_error__isnull=True) | Q(status=Recipient.Status.FAILED)
    kept = recipients.filter(unrecorded).update(provider_error=error)
    if action_for(error.get("code")).kind == UNREACHABLE:
        mark_unreachable(contact_ids=list(recipients.values_list("contact_id", flat=True)), at=at)
    return kept


def mark_unreachable(*, contact_ids: list[int], at) -> int:
    """Meta says these numbers cannot receive WhatsApp messages (the first time is kept)."""
    return Contact.objects.filter(id__in=contact_ids, unreachable_at__isnull=True).update(unreachable_at=at)


def _failure_reason(action, raw: dict) -> str:
    code = raw.get("code")
    detail = raw.get("details") or raw.get("title") or ""
    if action.kind == WINDOW_CLOSED:
        return _(
            "Meta error %(code)s: the 24-hour customer service window is closed and the step has no fallback "
            "template (%(detail)s)"
        ) % {"code": code, "detail": detail}
    reason = raw.get("title") if action.kind == FAIL else action.reason
    return _("Meta error %(code)s: %(reason)s (%(detail)s)") % {"code": code, "reason": reason, "detail": detail}
