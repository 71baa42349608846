"""A person took over a contact: the bot stays quiet with them until `until` or an explicit resume."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from flows.models.conversations import Conversation


class Handoff(TenantModel):
    """The bot paused for one contact on one instance.

    Status transitions (`flows.handoff`, by conditional UPDATE):
        open -> resumed   (an operator resumed the bot, or `until` passed)
    """

    class Reason(models.TextChoices):
        PHONE = "phone", _("Someone answered from the number's phone")
        CONTACT = "contact", _("The contact asked for a person")
        OPERATOR = "operator", _("An operator took over")

    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="+", verbose_name=_("contact")
    )
    instance = models.ForeignKey(
        "instances.WhatsAppInstance", on_delete=models.CASCADE, related_name="+", verbose_name=_("instance")
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("conversation")
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    started_at = models.DateTimeField(_("since"), db_index=True)
    until = models.DateTimeField(_("bot quiet until"))
    resumed_at = models.DateTimeField(_("resumed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("handoff to a person")
        verbose_name_plural = _("waiting for a person")
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "instance"],
                condition=models.Q(resumed_at__isnull=True),
                name="flows_handoff_one_open",
            ),
        ]

    def __str__(self):
        return f"{self.contact_id} ({self.get_reason_display()})"

    @property
    def is_open(self) -> bool:
        return self.resumed_at is None
