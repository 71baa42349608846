import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from core import crypto
from core.http_guard import ForbiddenAddress, check_url
from instances.health import compute_health_score
from instances.sandbox_config import SANDBOX_DEFAULTS, validate_sandbox_config


def generate_webhook_secret() -> str:
    return secrets.token_urlsafe(24)


# The Cloud API secrets an instance keeps encrypted: the system user's permanent token, the
# Meta app's secret (signs webhooks) and the token Meta echoes when verifying the webhook URL.
CLOUD_SECRETS = ("access_token", "app_secret", "verify_token")


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
        CLOUD = "cloud", _("WhatsApp Cloud API (Meta)")
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
    # Cloud API (Meta): the number and account ids, and the secrets, encrypted (`cloud_secrets`).
    cloud_phone_number_id = models.CharField(
        _("phone number id"),
        max_length=32,
        blank=True,
        help_text=_("Cloud API: the phone number's id in Meta's WhatsApp Manager, e.g. 106540352242922"),
    )
    cloud_business_account_id = models.CharField(
        _("WhatsApp Business Account id"),
        max_length=32,
        blank=True,
        help_text=_("Cloud API: the WhatsApp Business Account (WABA) id, e.g. 102290129340398"),
    )
    cloud_secrets_encrypted = models.TextField(_("encrypted Cloud API secrets"), blank=True, editable=False)
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
            # A Cloud number's webhooks name it by its phone number id: one instance each.
            models.UniqueConstraint(
                fields=["cloud_phone_number_id"],
                condition=~models.Q(cloud_phone_number_id=""),
                name="instances_cloud_phone_number_id_once",
                violation_error_message=_("Another instance already uses this phone number id."),
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
        elif self.provider == self.Provider.CLOUD:
            for field in ("cloud_phone_number_id", "cloud_business_account_id"):
                if not getattr(self, field).strip().isdigit():
                    errors[field] = _("Required for Cloud API instances: the numeric id from Meta.")
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

    def cloud_secrets(self) -> dict:
        """`access_token`, `app_secret`, `verify_token` (each may be missing)."""
        return crypto.decrypt_json(self.cloud_secrets_encrypted)

    def set_cloud_secrets(self, **secrets: str) -> None:
        """Store the given secrets over the current ones; a blank value keeps the stored one."""
        unknown = set(secrets) - set(CLOUD_SECRETS)
        if unknown:
            raise ValueError(f"Unknown Cloud API secrets: {sorted(unknown)}")
        merged = {**self.cloud_secrets(), **{k: v for k, v in secrets.items() if v}}
        self.cloud_secrets_encrypted = crypto.encrypt_json(merged)

    def cloud_secret_hint(self) -> str:
        """Which secrets are stored, never their values, e.g. "access_token, app_secret"."""
        stored = self.cloud_secrets() if self.cloud_secrets_encrypted else {}
        return ", ".join(name for name in CLOUD_SECRETS if stored.get(name))

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
