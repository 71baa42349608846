from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TenantModel


class Tag(TenantModel):
    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. vip"))

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="contacts_tag_unique_name"),
        ]

    def __str__(self):
        return self.name


class Contact(TenantModel):
    """A person we can message, by E.164 phone, unique within an organization."""

    # The unique (organization, phone) index serves every lookup by organization; an
    # index on organization alone would only slow down million-row imports.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization"), db_index=False
    )
    phone = models.CharField(_("phone"), max_length=20, help_text=_("E.164, e.g. +5511999999999"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    custom_fields = models.JSONField(
        _("custom fields"), default=dict, blank=True, help_text=_('Free fields, e.g. {"points": 120}')
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts", verbose_name=_("tags"))
    is_active = models.BooleanField(_("active"), default=True)
    opted_out_at = models.DateTimeField(_("opted out at"), null=True, blank=True)
    opt_out_reason = models.CharField(_("opt-out reason"), max_length=200, blank=True)
    opt_out_source = models.CharField(
        _("opt-out source"), max_length=100, blank=True, help_text=_("e.g. keyword:SAIR, admin, api")
    )
    unreachable_at = models.DateTimeField(
        _("not reachable on WhatsApp since"),
        null=True,
        blank=True,
        help_text=_("WhatsApp said the number cannot receive messages (Meta's error 131026)"),
    )
    last_interaction_at = models.DateTimeField(_("last interaction at"), null=True, blank=True)
    total_messages_received = models.PositiveIntegerField(_("messages received"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "phone"], name="contacts_contact_unique_phone"),
        ]
        indexes = [
            # The admin dashboard's "opted out today" (only opted-out contacts are indexed).
            models.Index(
                fields=["organization", "opted_out_at"],
                condition=models.Q(opted_out_at__isnull=False),
                name="contacts_contact_opted_out",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.phone})" if self.name else self.phone

    @property
    def is_opted_out(self) -> bool:
        return self.opted_out_at is not None

    def mark_opted_out(self, *, reason: str = "", source: str = "") -> bool:
        """Opt the contact out; returns False if it already was (the first opt-out wins)."""
        if self.opted_out_at is not None:
            return False
        self.opted_out_at = timezone.now()
        self.opt_out_reason = reason
        self.opt_out_source = source
        self.save(update_fields=["opted_out_at", "opt_out_reason", "opt_out_source", "updated_at"])
        return True

    def mark_opted_in(self) -> bool:
        if self.opted_out_at is None:
            return False
        self.opted_out_at = None
        self.opt_out_reason = ""
        self.opt_out_source = ""
        self.save(update_fields=["opted_out_at", "opt_out_reason", "opt_out_source", "updated_at"])
        return True


class ContactImport(TenantModel):
    """A CSV uploaded in the admin, imported by a Celery task.

    State transitions:
        PENDING -> RUNNING -> DONE
        PENDING -> RUNNING -> FAILED
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    file = models.FileField(
        _("file"),
        upload_to="contact_imports/%Y/%m/",
        help_text=_("CSV with a header row: phone,name,email,… (other columns become custom fields)"),
    )
    tag = models.CharField(_("tag"), max_length=100, blank=True, help_text=_("Tag every imported contact, e.g. lead"))
    delimiter = models.CharField(
        _("delimiter"), max_length=1, blank=True, help_text=_("e.g. , or ; (empty: detected from the header row)")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    invalid_count = models.PositiveIntegerField(_("invalid"), default=0)
    report = models.FileField(
        _("error report"), upload_to="contact_imports/reports/%Y/%m/", blank=True, help_text=_("Rows not imported")
    )
    error = models.TextField(_("error"), blank=True, help_text=_("Why the whole import failed, if it did"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact import")
        verbose_name_plural = _("contact imports")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.file.name.rsplit('/', 1)[-1]} ({self.get_status_display()})"
