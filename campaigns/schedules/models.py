"""A campaign's schedule, its exceptions and one run record per occurrence that came due."""

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from campaigns.models.campaign import Campaign
from campaigns.models.execution import Execution


class Schedule(TenantModel):
    """When a campaign starts by itself (one per campaign).

    `next_scheduled_at` is the next occurrence the calculator gives after the last one
    handled; the ticker takes schedules whose `next_scheduled_at` has come.
    """

    class RecurrenceType(models.TextChoices):
        ONCE = "once", _("Once")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")
        CRON = "cron", _("Cron expression")
        CUSTOM = "custom", _("Chosen dates")

    class OverlapPolicy(models.TextChoices):
        SKIP = "skip", _("Skip it while an execution runs")
        BUFFER_ONE = "buffer_one", _("Start it when the running one ends (one waits at most)")
        ALLOW = "allow", _("Run alongside, up to the concurrency limit")

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, related_name="schedule", verbose_name=_("campaign")
    )
    recurrence_type = models.CharField(
        _("recurrence"), max_length=16, choices=RecurrenceType.choices, default=RecurrenceType.ONCE
    )
    start_date = models.DateField(_("start date"), help_text=_("Local date of the first occurrence, e.g. 2025-11-20"))
    start_time = models.TimeField(_("start time"), help_text=_("Local time of each occurrence, e.g. 09:00"))
    end_date = models.DateField(_("end date"), null=True, blank=True, help_text=_("Last local date (inclusive)"))
    max_occurrences = models.PositiveIntegerField(_("max occurrences"), null=True, blank=True)
    recurrence_config = models.JSONField(
        _("recurrence settings"),
        default=dict,
        blank=True,
        help_text=_('e.g. {"days": ["MON", "WED"], "interval": 1} or {"expression": "0 9 * * MON-FRI"}'),
    )
    execution_window_start = models.TimeField(_("window start"), null=True, blank=True, help_text=_("e.g. 09:00"))
    execution_window_end = models.TimeField(_("window end"), null=True, blank=True, help_text=_("e.g. 18:00"))
    execution_timezone = models.CharField(
        _("time zone"), max_length=64, default="America/Sao_Paulo", help_text=_("IANA name, e.g. America/Sao_Paulo")
    )
    blackout_dates = models.JSONField(
        _("blackout dates"), default=list, blank=True, help_text=_('Local dates, e.g. ["2025-12-25"]')
    )
    skip_weekends = models.BooleanField(_("skip weekends"), default=False)
    skip_holidays = models.BooleanField(_("skip holidays"), default=False)
    holiday_country = models.CharField(_("holiday country"), max_length=2, default="BR")
    holiday_subdivision = models.CharField(
        _("holiday state"), max_length=8, blank=True, help_text=_("e.g. SP (empty: national holidays only)")
    )
    include_optional_holidays = models.BooleanField(
        _("include optional holidays"), default=False, help_text=_("e.g. Carnaval, Ash Wednesday")
    )
    overlap_policy = models.CharField(
        _("when an execution is still running"),
        max_length=16,
        choices=OverlapPolicy.choices,
        default=OverlapPolicy.SKIP,
    )
    catchup_window = models.DurationField(
        _("catch-up window"),
        default=timedelta(hours=1),
        help_text=_("How late an occurrence may still start after downtime, e.g. 01:00:00"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_paused = models.BooleanField(_("paused"), default=False)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    pause_note = models.CharField(_("pause note"), max_length=300, blank=True)
    last_executed_at = models.DateTimeField(_("last executed at"), null=True, blank=True)
    next_scheduled_at = models.DateTimeField(_("next run"), null=True, blank=True)
    execution_count = models.PositiveIntegerField(_("executions started"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        indexes = [
            # The ticker's claim: due, active, not paused.
            models.Index(
                fields=["next_scheduled_at"],
                condition=Q(is_active=True, is_paused=False, next_scheduled_at__isnull=False),
                name="campaigns_schedule_due",
            ),
        ]

    def __str__(self):
        return f"{self.campaign} ({self.get_recurrence_type_display()})"


class ScheduleException(models.Model):
    """A period skipped, one occurrence moved, or the settings of a period's executions changed."""

    class Type(models.TextChoices):
        SKIP = "skip", _("Skip the period")
        RESCHEDULE = "reschedule", _("Move one occurrence")
        MODIFY = "modify", _("Change the settings in the period")

    schedule = models.ForeignKey(
        Schedule, verbose_name=_("schedule"), on_delete=models.CASCADE, related_name="exceptions"
    )
    exception_type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    start_date = models.DateTimeField(_("from"), help_text=_("For a move: the occurrence moved, e.g. 2025-11-24 09:00"))
    end_date = models.DateTimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True, help_text=_("e.g. Black Friday"))
    rescheduled_to = models.DateTimeField(_("moved to"), null=True, blank=True)
    modified_config = models.JSONField(
        _("changed settings"),
        default=dict,
        blank=True,
        help_text=_('e.g. {"rate_limit_per_hour": 3000, "max_concurrent_executions": 150}'),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("schedule exception")
        verbose_name_plural = _("schedule exceptions")
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(exception_type="reschedule") | Q(rescheduled_to__isnull=False),
                name="campaigns_scheduleexception_reschedule_has_target",
            ),
        ]

    def __str__(self):
        return f"{self.get_exception_type_display()} {self.start_date:%Y-%m-%d}"


class ScheduleRun(models.Model):
    """One occurrence that came due, and what became of it.

    The unique (schedule, scheduled_for) row is taken in the same transaction that starts
    the execution: a second ticker, beat or retried task finds it and starts nothing.

    State transitions:
        buffered -> started | skipped
        (started, skipped and missed are final; missed -> buffered only by a backfill)
    """

    class Status(models.TextChoices):
        STARTED = "started", _("Started")
        SKIPPED = "skipped", _("Skipped")
        MISSED = "missed", _("Missed")
        BUFFERED = "buffered", _("Waiting for the running execution")

    class Kind(models.TextChoices):
        RECURRENCE = "recurrence", _("Recurrence")
        MANUAL = "manual", _("Run now")
        BACKFILL = "backfill", _("Backfill")

    schedule = models.ForeignKey(Schedule, verbose_name=_("schedule"), on_delete=models.CASCADE, related_name="runs")
    scheduled_for = models.DateTimeField(_("scheduled for"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.RECURRENCE)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    settings = models.JSONField(_("changed settings"), default=dict, blank=True)
    execution = models.ForeignKey(
        Execution, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("execution")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)

    class Meta:
        verbose_name = _("schedule run")
        verbose_name_plural = _("schedule runs")
        ordering = ["-scheduled_for"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "scheduled_for"], name="campaigns_schedulerun_once"),
        ]
        indexes = [
            # The ticker starts waiting (buffered) runs when their campaign is free.
            models.Index(
                fields=["schedule", "scheduled_for"], condition=Q(status="buffered"), name="campaigns_schedulerun_buf"
            ),
        ]

    def __str__(self):
        return f"{self.schedule_id} @ {self.scheduled_for:%Y-%m-%d %H:%M} {self.status}"
