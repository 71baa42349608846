"""No-reply timers: "no answer within X goes to …", kept in the database so they survive restarts.

`WaitTimeout` is a waiting message's setting (a reply, a file or a choice); `ReplyTimer`
is one conversation's running timer, armed when the conversation stops at such a message
and claimed by the beat sweep (`flows.timers`) once due.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from flows.models.conversations import Conversation
from flows.models.design import FlowMessage, Subflow

MAX_TIMEOUT_MINUTES = 30 * 24 * 60


class WaitTimeout(models.Model):
    """A waiting message's "no reply within `after_minutes`" branch."""

    message = models.OneToOneField(
        FlowMessage, on_delete=models.CASCADE, related_name="wait_timeout", verbose_name=_("flow message")
    )
    after_minutes = models.PositiveIntegerField(
        _("no reply within (minutes)"), help_text=_("e.g. 120 for two hours, 1440 for a day (at most 30 days)")
    )
    subflow = models.ForeignKey(
        Subflow,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("then go to"),
        help_text=_("Where the conversation goes when nothing arrives in time; empty goes on in order"),
    )

    class Meta:
        verbose_name = _("no-reply timer")
        verbose_name_plural = _("no-reply timers")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(after_minutes__gte=1, after_minutes__lte=MAX_TIMEOUT_MINUTES),
                name="flows_waittimeout_minutes_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.after_minutes} min"

    def clean(self):
        if self.after_minutes is not None and not 1 <= self.after_minutes <= MAX_TIMEOUT_MINUTES:
            raise ValidationError({"after_minutes": _("From 1 minute to 30 days.")})
        if self.subflow_id and self.message_id and self.subflow.flow_id != self.message.subflow.flow_id:
            raise ValidationError({"subflow": _("Must be a subflow of the same flow.")})


class ReplyTimer(TenantModel):
    """A conversation's running no-reply timer.

    Status transitions (see `flows.timeouts` and `flows.timers`, by conditional UPDATE):
        pending -> fired       (due, and the conversation still waits where it was armed)
        pending -> cancelled   (the conversation moved on, ended, or was re-armed)
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        FIRED = "fired", _("Fired")
        CANCELLED = "cancelled", _("Cancelled")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="reply_timers", verbose_name=_("conversation")
    )
    flow_message = models.ForeignKey(
        FlowMessage, on_delete=models.CASCADE, related_name="+", verbose_name=_("flow message")
    )
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    fired_at = models.DateTimeField(_("fired at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reply timer")
        verbose_name_plural = _("reply timers")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"], condition=models.Q(status="pending"), name="flows_replytimer_one_pending"
            ),
        ]
        indexes = [
            # The sweep's claim: due pending timers, oldest first.
            models.Index(fields=["due_at"], condition=models.Q(status="pending"), name="flows_replytimer_due_idx"),
        ]
