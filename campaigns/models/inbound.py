from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel


class InboundEvent(TenantModel):
    """A business event posted to `/api/v1/events`, and what it started.

    With an `Idempotency-Key` the row is taken before anything starts (a unique
    constraint), so a retry of the same request answers this row and starts nothing.
    """

    event = models.CharField(_("event"), max_length=100)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, blank=True)
    contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact"),
    )
    data = models.JSONField(_("data"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inbound event")
        verbose_name_plural = _("inbound events")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="campaigns_inboundevent_once_per_key",
            ),
        ]
