import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from core.http_guard import ForbiddenAddress, check_url


def generate_webhook_secret() -> str:
    return secrets.token_urlsafe(24)


# Bounds of the sandbox's playback, so a typo cannot park a task in the broker for days.
SANDBOX_MAX_DELAY_SECONDS = 300
SANDBOX_DEFAULTS = {
    "playback": False,
    "delivery_delay": 2,
    "read_delay": 5,
    "reply_delay": 10,
    "failure_probability": 0.0,
    "delivery_probability": 1.0,
    "read_probability": 0.7,
    "reply_probability": 0.1,
    "reply_text": "Sim",
}

# The score only moves on today's rates once today has this many attempts.
HEALTH_MIN_SAMPLE = 20
HEALTH_CLOSE_PENALTY = 20


class WhatsAppInstance(TenantModel):
    """A WhatsApp number that sends, through one provider.

    Connection state transitions (reported by the provider; applied only by
    `instances.services.set_connection_state`):
        close -> connecting -> open
        open -> close            (logged out or dropped)
        connecting -> close

    `needs_qr_login` is set when the provider says the session is gone for good (the
    caller decides from its own codes, e.g. Evolution's close 401); only an `open`
    clears it, since only a new login opens the number again.

    Health score (0-100), kept in `health_score`:
        - When the connection closes it drops by 20 at once.
        - When today's counters are flushed and today has at least 20 attempts
          (sent + failed), it is recomputed from today's rates:
              100 - 50 * failed / (sent + failed)
                  - 30 * (1 - delivered / sent)
                  - 10 * (1 - read / sent)
                  - 10 * min(disconnects today, 3)
          (a read counts as delivered), rounded and kept within 0..100.
        - With fewer attempts the previous score is kept, so a quiet morning
          neither clears yesterday's trouble nor invents new trouble.
    """

    class Provider(models.TextChoices):
        EVOLUTION = "evolution", _("Evolution API")
        GOSAC = "gosac", _("GOSAC")
        SANDBOX = "sandbox", _("Sandbox")

    class ConnectionState(models.TextChoices):
        OPEN = "open", _("Open")
        CONNECTING = "connecting", _("Connecting")
        CLOSE = "close", _("Closed")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. Atendimento SP"))
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices, default=Provider.SANDBOX)
    phone_number = models.CharField(
        _("phone number"), max_length=20, blank=True, help_text=_("The number it sends from, e.g. +5511999999999")
    )
    # Provider settings. Evolution: base_url, instance_name, api_key. GOSAC: base_url,
    # api_key (the Authorization header) and integration_key.
    base_url = models.URLField(_("base URL"), blank=True, help_text=_("e.g. https://evolution.example.com"))
    instance_name = models.CharField(
        _("provider instance name"),
        max_length=100,
        null=True,
        blank=True,
        help_text=_("Evolution's instance name; webhooks name the instance by it"),
    )
    api_key = models.CharField(
        _("API key"), max_length=255, blank=True, help_text=_("Evolution: apikey header. GOSAC: Authorization header.")
    )
    integration_key = models.CharField(
        _("integration key"), max_length=255, blank=True, help_text=_("GOSAC only: the INTEGRATION header.")
    )
    api_version = models.CharField(_("API version"), max_length=4, default="v2", choices=[("v1", "v1"), ("v2", "v2")])
    webhook_secret = models.CharField(
        _("webhook secret"), max_length=64, unique=True, default=generate_webhook_secret, editable=False
    )
    connection_state = models.CharField(
        _("connection state"), max_length=16, choices=ConnectionState.choices, default=ConnectionState.CLOSE
    )
    needs_qr_login = models.BooleanField(
        _("needs a new QR login"),
        default=False,
        help_text=_("The provider logged the number out (e.g. Evolution close 401): scan a new QR code"),
    )
    connection_reason = models.CharField(
        _("connection reason"),
        max_length=255,
        blank=True,
        help_text=_("Why the connection state last changed, e.g. Logged out (401)"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    health_score = models.PositiveSmallIntegerField(_("health score"), default=100)
    sandbox_config = models.JSONField(
        _("sandbox playback"),
        default=dict,
        blank=True,
        help_text=_(
            'Sandbox only. e.g. {"playback": true, "delivery_delay": 2, "read_delay": 5, "reply_delay": 10, '
            '"failure_probability": 0.02, "delivery_probability": 1, "read_probability": 0.7, '
            '"reply_probability": 0.1, "reply_text": "Sim"} (delays in seconds, at most 300)'
        ),
    )
    counters_date = models.DateField(
        _("counters date"), null=True, blank=True, help_text=_("The local day the daily counters count")
    )
    sent_today = models.PositiveIntegerField(_("sent today"), default=0)
    delivered_today = models.PositiveIntegerField(_("delivered today"), default=0)
    read_today = models.PositiveIntegerField(_("read today"), default=0)
    failed_today = models.PositiveIntegerField(_("failed today"), default=0)
    replies_today = models.PositiveIntegerField(_("replies today"), default=0)
    disconnects_today = models.PositiveIntegerField(_("disconnects today"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    last_connected_at = models.DateTimeField(_("last connected at"), null=True, blank=True)
    last_disconnected_at = models.DateTimeField(_("last disconnected at"), null=True, blank=True)
    # When the connection state was last learned (a check or a provider event); empty: never.
    connection_checked_at = models.DateTimeField(_("connection state learned at"), null=True, blank=True)
    configure_webhook_on_save = models.BooleanField(
        _("configure the webhook on save"),
        default=True,
        help_text=_("Evolution: point the instance's webhook at this product each time it is saved"),
    )
    supports_polls = models.BooleanField(
        _("send choices as polls"),
        default=False,
        help_text=_("Evolution: a flow's choices go out as WhatsApp polls (else as numbered text)"),
    )
    # The warm-up ladder (CAMPAIGNS_WARMUP_LADDER) counts from here, not from the row's creation.
    sending_since = models.DateField(
        _("sending since"),
        null=True,
        blank=True,
        help_text=_("When this number started sending (here or elsewhere), e.g. 2023-05-01; empty: when it was added"),
    )
    warmed_up = models.BooleanField(
        _("warmed up"), default=False, help_text=_("The number is past its warm-up: no ladder cap")
    )
    daily_cap = models.PositiveIntegerField(
        _("daily cap"),
        null=True,
        blank=True,
        help_text=_("Campaign sends a day through this number, overriding the ladder and the default; 0 = none"),
    )

    COUNTER_FIELDS = {
        "sent": "sent_today",
        "delivered": "delivered_today",
        "read": "read_today",
        "failed": "failed_today",
        "replies": "replies_today",
    }

    # Fields the provider, the counters and the health formula maintain; no form or
    # API request writes them.
    REPORTED_FIELDS = (
        "connection_state",
        "needs_qr_login",
        "connection_reason",
        "health_score",
        "counters_date",
        "sent_today",
        "delivered_today",
        "read_today",
        "failed_today",
        "replies_today",
        "disconnects_today",
        "last_connected_at",
        "last_disconnected_at",
        "connection_checked_at",
    )

    class Meta:
        verbose_name = _("WhatsApp instance")
        verbose_name_plural = _("WhatsApp instances")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(health_score__lte=100), name="instances_instance_health_score_max_100"
            ),
            # A provider server knows each of its instances by name; two servers may share one.
            # The message names no organization: it must not tell a tenant what others have.
            models.UniqueConstraint(
                fields=["base_url", "instance_name"],
                name="instances_instance_name_unique_per_server",
                violation_error_message=_("This instance name is not available on this provider server."),
            ),
        ]
        indexes = [
            # The webhooks' lookup of the instance a payload names (instances.queries, webhooks.store).
            models.Index(fields=["instance_name"], name="instances_instance_name_idx"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.provider == self.Provider.EVOLUTION:
            for field in ("base_url", "instance_name", "api_key"):
                if not getattr(self, field):
                    errors[field] = _("Required for Evolution API instances.")
        elif self.provider == self.Provider.GOSAC:
            for field in ("base_url", "api_key", "integration_key"):
                if not getattr(self, field):
                    errors[field] = _("Required for GOSAC instances.")
        if self.instance_name == "":
            self.instance_name = None
        if self.base_url:
            self.base_url = self.base_url.rstrip("/")
            try:
                check_url(self.base_url)
            except ForbiddenAddress as refused:
                errors["base_url"] = str(refused)
        config_error = validate_sandbox_config(self.sandbox_config)
        if config_error:
            errors["sandbox_config"] = config_error
        if errors:
            raise ValidationError(errors)

    @property
    def playback(self) -> dict:
        """The sandbox's playback settings, defaults filled in."""
        return {**SANDBOX_DEFAULTS, **(self.sandbox_config or {})}

    def apply_counter_deltas(self, deltas: dict[str, int], *, today) -> None:
        """Add counted events to today's counters (restarting them on a new day) and rescore."""
        if self.counters_date != today:
            for field in self.COUNTER_FIELDS.values():
                setattr(self, field, 0)
            self.disconnects_today = 0
            self.counters_date = today
        for name, count in deltas.items():
            field = self.COUNTER_FIELDS[name]
            setattr(self, field, getattr(self, field) + count)
        self.health_score = compute_health_score(
            sent=self.sent_today,
            delivered=self.delivered_today,
            read=self.read_today,
            failed=self.failed_today,
            disconnects=self.disconnects_today,
            previous=self.health_score,
        )


def compute_health_score(*, sent: int, delivered: int, read: int, failed: int, disconnects: int, previous: int) -> int:
    """The formula documented on `WhatsAppInstance`."""
    attempts = sent + failed
    if attempts < HEALTH_MIN_SAMPLE:
        return previous
    delivered = max(delivered, read)
    delivery_rate = min(delivered / sent, 1.0) if sent else 0.0
    read_rate = min(read / sent, 1.0) if sent else 0.0
    score = 100 - 50 * failed / attempts - 30 * (1 - delivery_rate) - 10 * (1 - read_rate) - 10 * min(disconnects, 3)
    return max(0, min(100, round(score)))


def validate_sandbox_config(config) -> str:
    """'' when the sandbox settings are usable, else what is wrong with them."""
    if not isinstance(config, dict):
        return str(_("Must be a JSON object."))
    unknown = sorted(set(config) - set(SANDBOX_DEFAULTS))
    if unknown:
        return str(_("Unknown keys: %(keys)s.") % {"keys": ", ".join(unknown)})
    for key, value in config.items():
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if key.endswith("_delay"):
            if not is_number or not 0 <= value <= SANDBOX_MAX_DELAY_SECONDS:
                return str(_("%(key)s must be a number of seconds from 0 to 300.") % {"key": key})
        elif key.endswith("_probability"):
            if not is_number or not 0 <= value <= 1:
                return str(_("%(key)s must be a number from 0 to 1.") % {"key": key})
        elif key == "playback" and not isinstance(value, bool):
            return str(_("playback must be true or false."))
        elif key == "reply_text" and not isinstance(value, str):
            return str(_("reply_text must be text."))
    return ""


class SandboxMessage(TenantModel):
    """A message 'sent' through a sandbox instance, and the life the sandbox plays for it.

    Simulated status transitions (forward only, see `instances.providers.sandbox`):
        sent -> delivered -> read
        sent -> failed
    """

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    instance = models.ForeignKey(
        WhatsAppInstance, on_delete=models.CASCADE, related_name="sandbox_messages", verbose_name=_("instance")
    )
    to_phone = models.CharField(_("to"), max_length=32, help_text=_("e.g. +5511999999999"))
    text = models.TextField(_("text"), blank=True)
    media_url = models.URLField(_("media URL"), max_length=1000, blank=True)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    mimetype = models.CharField(_("MIME type"), max_length=100, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=64, unique=True)
    simulated_status = models.CharField(
        _("simulated status"), max_length=16, choices=Status.choices, default=Status.SENT
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sandbox message")
        verbose_name_plural = _("sandbox messages")
        ordering = ["-created_at"]
        indexes = [
            # The admin's list of one instance's messages, newest first.
            models.Index(fields=["instance", "-created_at"], name="instances_sandbox_recent_idx"),
        ]

    def __str__(self):
        return f"{self.to_phone} {self.provider_message_id}"


class InstanceDay(models.Model):
    """One instance's counters and health at the end of one local day (the last flush of that day).

    Kept by `instances.counters.apply_deltas`, one upsert per flush; the admin's health
    history chart reads it. The instance's own `*_today` fields stay the live figures.
    """

    instance = models.ForeignKey(
        WhatsAppInstance, on_delete=models.CASCADE, related_name="days", verbose_name=_("instance")
    )
    day = models.DateField(_("day"))
    sent = models.PositiveIntegerField(_("sent"), default=0)
    delivered = models.PositiveIntegerField(_("delivered"), default=0)
    read = models.PositiveIntegerField(_("read"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    replies = models.PositiveIntegerField(_("replies"), default=0)
    disconnects = models.PositiveIntegerField(_("disconnects"), default=0)
    health_score = models.PositiveSmallIntegerField(_("health score"), default=100)

    class Meta:
        verbose_name = _("instance day")
        verbose_name_plural = _("instance days")
        constraints = [models.UniqueConstraint(fields=["instance", "day"], name="instances_day_once_per_instance")]

    def __str__(self):
        return f"{self.instance_id} {self.day}"
