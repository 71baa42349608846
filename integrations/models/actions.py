from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from integrations.models.connections import Integration

ACTION_KINDS = [
    ("pontta_create_ticket", _("Pontta: create a ticket")),
    ("pontta_list_tickets", _("Pontta: look up the contact's open tickets")),
    ("gosac_get_contact", _("GOSAC: fill variables from the contact")),
    ("sheets_append_row", _("Google Sheets: append a row")),
    ("sheets_lookup", _("Google Sheets: look up a row")),
    ("drive_upload_file", _("Google Drive: upload a file")),
    ("http_request", _("HTTP request")),
]


class ActionRun(TenantModel):
    """One run of a flow step's action, claimed before the partner is called.

    State transitions (see `integrations.services.actions`):
        pending -> running -> succeeded
        pending -> running -> pending     (the partner proved nothing happened: retried with backoff)
        pending -> running -> failed      (refused, or out of attempts)
        pending -> running -> unknown     (no answer after sending, or the worker died: never repeated)
    `reference` names what asked for it (e.g. `conversation:42`), which this app knows nothing about.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")

    FINISHED = [Status.SUCCEEDED, Status.FAILED, Status.UNKNOWN]

    integration = models.ForeignKey(
        Integration,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        verbose_name=_("integration"),
    )
    action = models.CharField(_("action"), max_length=32, choices=ACTION_KINDS)
    reference = models.CharField(_("for"), max_length=100, db_index=True)
    key = models.CharField(_("key"), max_length=200, help_text=_("One run per key: the caller's step, once"))
    params = models.JSONField(_("request"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("action run")
        verbose_name_plural = _("action runs")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="integrations_actionrun_once"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="integrations_run_due"),
            models.Index(fields=["claimed_at"], condition=Q(status="running"), name="integrations_run_lease"),
        ]

    def __str__(self):
        return f"{self.action} #{self.pk} ({self.status})"
