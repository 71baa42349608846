"""Operator controls of running campaigns, and reactions to other apps.

Pause, resume and cancel executions and whole campaigns, re-queue recipients on request,
and follow a number's connection or a conversation's end (signals wired in
`CampaignsConfig.ready`). Every status change goes through the models' `transition` /
`advance_recipients`; dispatching is queued only on commit.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign, CampaignLog, Execution, Recipient
from campaigns.models.log import log
from campaigns.numbers import usable_instances
from campaigns.transitions import advance_recipients
from campaigns.windows import now as clock_now

# Operator controls -------------------------------------------------------------------


@transaction.atomic
def pause_execution(
    *, execution: Execution, reason: str = Execution.PauseReason.OPERATOR, detail: str = "", user=None
) -> bool:
    paused = execution.transition(Execution.Status.PAUSED, pause_reason=reason, pause_detail=detail[:300])
    if paused:
        severity = CampaignLog.Severity.CRITICAL if reason == Execution.PauseReason.INSTANCE_DISCONNECTED else "info"
        log(
            campaign=execution.campaign,
            execution=execution,
            type=CampaignLog.Type.EXECUTION_PAUSED,
            severity=severity,
            message=detail or str(Execution.PauseReason(reason).label),
            details={"reason": reason, "user": getattr(user, "username", "")},
        )
    return paused


@transaction.atomic
def resume_execution(*, execution: Execution, user=None) -> bool:
    resumed = execution.transition(
        Execution.Status.RUNNING, source=Execution.Status.PAUSED, pause_reason="", pause_detail="", heartbeat_at=None
    )
    if resumed:
        log(
            campaign=execution.campaign,
            execution=execution,
            type=CampaignLog.Type.EXECUTION_RESUMED,
            message=_("Execution resumed."),
            details={"user": getattr(user, "username", "")},
        )
        from campaigns.tasks import queue_dispatch  # enqueue on commit

        transaction.on_commit(lambda: queue_dispatch(execution.id, fan_out=True))
    return resumed


@transaction.atomic
def cancel_execution(*, execution: Execution, user=None) -> int:
    """Cancel; its pending recipients become `skipped`. Returns how many were skipped."""
    if not execution.transition(Execution.Status.CANCELLED, completed_at=timezone.now()):
        return 0
    skipped = advance_recipients(
        Recipient.objects.filter(execution=execution, status=Recipient.Status.PENDING),
        Recipient.Status.SKIPPED,
        error=_("Execution cancelled."),
    )
    log(
        campaign=execution.campaign,
        execution=execution,
        type=CampaignLog.Type.EXECUTION_CANCELLED,
        message=_("Execution cancelled; %(n)d pending recipient(s) skipped.") % {"n": skipped},
        details={"user": getattr(user, "username", "")},
    )
    return skipped


@transaction.atomic
def requeue_recipients(*, execution: Execution, statuses: list[str] | None = None, user=None) -> int:
    """Send `unknown`/`failed` recipients again: only ever on an operator's explicit request."""
    statuses = [s for s in (statuses or Recipient.REQUEUEABLE) if s in Recipient.REQUEUEABLE]
    execution = Execution.objects.select_for_update().select_related("campaign").get(id=execution.id)
    if execution.status not in (*Execution.LIVE, Execution.Status.COMPLETED):
        raise ValidationError({"status": _("A cancelled or failed execution cannot be re-queued.")})
    moved = advance_recipients(
        Recipient.objects.filter(execution=execution, status__in=statuses),
        Recipient.Status.PENDING,
        next_attempt_at=clock_now(),
        lease_expires_at=None,
        error="",
        retry_count=0,
    )
    if moved and execution.status == Execution.Status.COMPLETED:
        execution.transition(
            Execution.Status.RUNNING, source=Execution.Status.COMPLETED, completed_at=None, heartbeat_at=None
        )
    if moved:
        log(
            campaign=execution.campaign,
            execution=execution,
            type=CampaignLog.Type.RECIPIENTS_REQUEUED,
            message=_("%(n)d recipient(s) re-queued.") % {"n": moved},
            details={"statuses": statuses},
        )
        from campaigns.tasks import queue_dispatch  # enqueue on commit

        transaction.on_commit(lambda: queue_dispatch(execution.id, fan_out=True))
    return moved


@transaction.atomic
def pause_campaign(*, campaign: Campaign, user=None) -> int:
    campaign.transition(Campaign.Status.PAUSED)
    executions = campaign.executions.filter(status__in=[Execution.Status.QUEUED, Execution.Status.RUNNING])
    return sum(pause_execution(execution=e, reason=Execution.PauseReason.CAMPAIGN, user=user) for e in executions)


@transaction.atomic
def resume_campaign(*, campaign: Campaign, user=None) -> int:
    campaign.transition(Campaign.Status.ACTIVE)
    executions = campaign.executions.filter(status=Execution.Status.PAUSED).filter(
        Q(pause_reason=Execution.PauseReason.CAMPAIGN) | Q(pause_reason=Execution.PauseReason.OPERATOR)
    )
    return sum(resume_execution(execution=e, user=user) for e in executions)


@transaction.atomic
def cancel_campaign(*, campaign: Campaign, user=None) -> int:
    executions = campaign.executions.filter(status__in=Execution.LIVE)
    return sum(cancel_execution(execution=e, user=user) for e in executions)


# Reactions to other apps' signals (wired in CampaignsConfig.ready) -------------------


def instance_connection_changed(*, instance, new_state: str, reason: str = "") -> int:
    """A closed number pauses the executions that have no other number; reopening resumes them."""
    executions = Execution.objects.filter(campaign__campaign_instances__instance=instance).select_related("campaign")
    changed = 0
    if new_state == "close":
        for execution in executions.filter(status__in=[Execution.Status.QUEUED, Execution.Status.RUNNING]):
            log(
                campaign=execution.campaign,
                execution=execution,
                instance=instance,
                type=CampaignLog.Type.INSTANCE_DISCONNECTED,
                severity=CampaignLog.Severity.CRITICAL,
                message=_("%(name)s disconnected: %(reason)s") % {"name": instance.name, "reason": reason or "-"},
            )
            if not usable_instances(execution.campaign):
                detail = _("%(name)s disconnected (%(reason)s).") % {"name": instance.name, "reason": reason or "-"}
                if execution.status == Execution.Status.QUEUED:
                    execution.transition(
                        Execution.Status.RUNNING, source=Execution.Status.QUEUED, started_at=clock_now()
                    )
                changed += pause_execution(
                    execution=execution, reason=Execution.PauseReason.INSTANCE_DISCONNECTED, detail=detail
                )
    elif new_state == "open":
        paused = executions.filter(
            status=Execution.Status.PAUSED, pause_reason=Execution.PauseReason.INSTANCE_DISCONNECTED
        )
        for execution in paused:
            log(
                campaign=execution.campaign,
                execution=execution,
                instance=instance,
                type=CampaignLog.Type.INSTANCE_RECONNECTED,
                message=_("%(name)s is connected again.") % {"name": instance.name},
            )
            changed += resume_execution(execution=execution)
    return changed


def conversation_completed(*, conversation) -> int:
    """The recipient whose conversation reached the end of the flow is `completed`."""
    return advance_recipients(Recipient.objects.filter(conversation_id=conversation.id), Recipient.Status.COMPLETED)
