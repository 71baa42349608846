import secrets as _secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from core import crypto
from core.http_guard import ForbiddenAddress, check_url

EVENT_TYPES = [
    "recipient.sent",
    "recipient.delivered",
    "recipient.read",
    "recipient.replied",
    "recipient.failed",
    "recipient.opted_out",
    "execution.completed",
    "conversation.completed",
    "conversation.handoff",
    "conversation.resumed",
]


class WebhookSubscription(TenantModel):
    """A URL that receives the organization's events, signed with its own secret.

    Disabled automatically (`disabled_at`, `disabled_reason`) when a delivery still fails after
    a day of retries; enabling it again delivers what waited.
    """

    url = models.URLField(_("URL"), max_length=1000, help_text=_("e.g. https://crm.example.com/hooks/whatsflow"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list, help_text=_('e.g. ["recipient.delivered", "recipient.read"]'))
    secret_encrypted = models.TextField(_("encrypted secret"), editable=False, blank=True)
    secret_hint = models.CharField(_("signing secret"), max_length=20, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why it was disabled"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["id"]

    def __str__(self):
        return self.url

    def clean(self):
        # The rule deliveries enforce at connect time, said at save (as an instance's base_url).
        if self.url:
            try:
                check_url(self.url)
            except ForbiddenAddress as refused:
                raise ValidationError({"url": str(refused)}) from None

    def new_secret(self) -> str:
        """Give the subscription a new signing secret and return it (shown once)."""
        secret = "whsec_" + _secrets.token_urlsafe(32)
        self.secret_encrypted = crypto.encrypt_json({"secret": secret})
        self.secret_hint = f"…{secret[-4:]}"
        return secret

    @property
    def secret(self) -> str:
        return crypto.decrypt_json(self.secret_encrypted).get("secret", "")


class OutboundEvent(TenantModel):
    """The outbox: an event written in the transaction of the change it reports.

    `key` makes an event once per fact (e.g. `recipient.delivered:42`), so the same change
    applied twice enqueues one event; its public id (`evt_<id>`) never changes, across
    retries and replays, and receivers deduplicate on it.
    """

    type = models.CharField(_("event"), max_length=40)
    key = models.CharField(_("key"), max_length=120)
    payload = models.JSONField(_("data"), default=dict)
    occurred_at = models.DateTimeField(_("occurred at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    fanned_out_at = models.DateTimeField(_("fanned out at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound event")
        verbose_name_plural = _("outbound events")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="integrations_event_once_per_fact"),
        ]
        indexes = [
            # The drainer's fan-out: events not yet turned into deliveries.
            models.Index(fields=["id"], condition=Q(fanned_out_at=None), name="integrations_event_new"),
        ]

    def __str__(self):
        return f"{self.public_id} {self.type}"

    @property
    def public_id(self) -> str:
        return f"evt_{self.pk}"


class WebhookDelivery(models.Model):
    """One event to one subscription.

    State transitions (see `integrations.services.webhooks`):
        pending -> delivering -> delivered
        pending -> delivering -> pending    (failed attempt: retried with backoff until `give_up_at`)
        pending -> delivering -> failed     (still failing at `give_up_at`: the subscription is disabled)
        delivered | failed -> pending       (replay from the admin or the API)
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERING = "delivering", _("Delivering")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("subscription")
    )
    event = models.ForeignKey(
        OutboundEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    give_up_at = models.DateTimeField(_("retried until"))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="integrations_delivery_once"),
        ]
        indexes = [
            # The drainer's claim: due pending deliveries.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="integrations_delivery_due"),
            models.Index(fields=["claimed_at"], condition=Q(status="delivering"), name="integrations_delivery_lease"),
        ]

    @property
    def organization_id(self) -> int:
        """The subscription's organization: what the API's tenant and role checks read."""
        return self.subscription.organization_id


class DeliveryAttempt(models.Model):
    """The log: one row per HTTP attempt of a delivery."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField(_("attempted at"), auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.CharField(_("answer"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["id"]
