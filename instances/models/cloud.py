"""What Cloud API numbers keep of Meta's rules: the contacts' 24-hour windows, the account's templates."""

from datetime import timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from instances.models.numbers import WhatsAppInstance

# Meta: free-form messages only within 24 hours of the contact's last message to the number.
CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)


class ContactWindow(models.Model):
    """The 24-hour customer service window of one contact (by phone) on one Cloud API number.

    Opened, and moved forward only, by the contact's messages (`last_inbound_at`); judged
    when a free-form message is about to be sent (`instances.services`), never earlier.
    """

    instance = models.ForeignKey(
        WhatsAppInstance, on_delete=models.CASCADE, related_name="+", verbose_name=_("instance")
    )
    phone = models.CharField(_("phone"), max_length=20, help_text=_("E.164, e.g. +5511999999999"))
    last_inbound_at = models.DateTimeField(_("last message from the contact"))

    class Meta:
        verbose_name = _("customer service window")
        verbose_name_plural = _("customer service windows")
        constraints = [models.UniqueConstraint(fields=["instance", "phone"], name="instances_window_once")]

    def __str__(self):
        return f"{self.instance_id} {self.phone}"

    def is_open(self, at) -> bool:
        return at - self.last_inbound_at < CUSTOMER_SERVICE_WINDOW


class MessageTemplate(TenantModel):
    """A message template of a WhatsApp Business Account, as Meta last reported it.

    Kept by `instances.templates` (the periodic sync, and the `message_template_status_update`
    webhook). Only an `APPROVED` template can be sent; Meta's other statuses (`PENDING`,
    `REJECTED`, `PAUSED`, `DISABLED`, ...) are kept as Meta words them.
    """

    APPROVED = "APPROVED"

    business_account_id = models.CharField(_("WhatsApp Business Account id"), max_length=32)
    meta_id = models.CharField(_("Meta's template id"), max_length=32, blank=True)
    name = models.CharField(_("name"), max_length=512)
    language = models.CharField(_("language"), max_length=16, help_text=_("e.g. pt_BR"))
    category = models.CharField(_("category"), max_length=32, blank=True, help_text=_("e.g. MARKETING, UTILITY"))
    status = models.CharField(_("status"), max_length=32, help_text=_("e.g. APPROVED, PENDING, REJECTED, PAUSED"))
    quality = models.CharField(_("quality"), max_length=16, blank=True, help_text=_("e.g. GREEN, YELLOW, RED"))
    reason = models.CharField(_("reason"), max_length=255, blank=True, help_text=_("Why Meta rejected or paused it"))
    components = models.JSONField(_("components"), default=list, blank=True)
    synced_at = models.DateTimeField(_("synced at"))

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "business_account_id", "name", "language"], name="instances_template_once"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.language})"

    @property
    def sendable(self) -> bool:
        return self.status == self.APPROVED
