from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel


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
