from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from accounts.validators import validate_time_zone
from core.bounds import in_range_constraint, within

# The sane range of each numeric setting (the API, the admin and a check constraint hold it).
BOUNDS = {
    "max_concurrent_executions": (1, 1_000),
    "rate_limit_per_hour": (1, 100_000),
    "min_interval_seconds": (0, 86_400),
    "interval_jitter_seconds": (0, 3_600),
    "pause_every_n_sends": (1, 1_000_000),
    "pause_seconds": (0, 86_400),
    "max_retries": (0, 20),
}


class Campaign(TenantModel):
    """A flow pushed to an audience; the public API calls it a *flow automation*.

    State transitions:
        draft -> active -> paused -> active
        active -> completed -> active      (started again)
        draft|active|paused|completed -> archived
    Editable in draft and paused only.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        COMPLETED = "completed", _("Completed")
        ARCHIVED = "archived", _("Archived")

    class TriggerType(models.TextChoices):
        MANUAL = "manual", _("Manual")
        SCHEDULED = "scheduled", _("Scheduled")
        CRON = "cron", _("Cron")
        WEBHOOK = "webhook", _("Webhook")

    class AudienceType(models.TextChoices):
        CUSTOM = "custom", _("Chosen contacts")
        ALL = "all", _("All active contacts")
        TAGS = "tags", _("Contacts with tags")
        SEGMENT = "segment", _("Segment filter")

    TRANSITIONS = {
        Status.DRAFT: {Status.ACTIVE, Status.ARCHIVED},
        Status.ACTIVE: {Status.PAUSED, Status.COMPLETED, Status.ARCHIVED},
        Status.PAUSED: {Status.ACTIVE, Status.ARCHIVED},
        Status.COMPLETED: {Status.ACTIVE, Status.ARCHIVED},
        Status.ARCHIVED: set(),
    }
    EDITABLE = (Status.DRAFT, Status.PAUSED)

    name = models.CharField(_("name"), max_length=200, help_text=_("e.g. Disparo Black Friday"))
    description = models.TextField(_("description"), blank=True)
    template = models.ForeignKey(
        "flows.FlowTemplate", on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("chatbot")
    )
    flow = models.ForeignKey("flows.Flow", on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("flow"))
    instances = models.ManyToManyField(
        "instances.WhatsAppInstance",
        through="CampaignInstance",
        related_name="campaigns",
        verbose_name=_("WhatsApp numbers"),
    )
    trigger_type = models.CharField(
        _("trigger"), max_length=16, choices=TriggerType.choices, default=TriggerType.MANUAL
    )
    trigger_config = models.JSONField(_("trigger settings"), default=dict, blank=True)
    audience_type = models.CharField(
        _("audience"), max_length=16, choices=AudienceType.choices, default=AudienceType.CUSTOM
    )
    audience_config = models.JSONField(
        _("audience settings"),
        default=dict,
        blank=True,
        help_text=_('e.g. {"contact_ids": [1, 2]}, {"tags": ["vip"], "match": "any"} or {"segment": {...}}'),
    )
    variable_mapping = models.JSONField(
        _("variables"),
        default=dict,
        blank=True,
        help_text=_('e.g. {"customer_name": "{{contact.name}}", "discount": "10%"}'),
    )
    # How many executions of this campaign may be live (queued, running or paused) at once;
    # a start beyond it is refused. 50 is the old Flow Automation API's default.
    max_concurrent_executions = models.PositiveIntegerField(
        _("max concurrent executions"),
        default=50,
        help_text=_("Executions of this campaign live at the same time (queued, running or paused), e.g. 50"),
        validators=within(BOUNDS, "max_concurrent_executions"),
    )
    rate_limit_per_hour = models.PositiveIntegerField(
        _("messages per hour"),
        null=True,
        blank=True,
        help_text=_("Empty for no limit, e.g. 500"),
        validators=within(BOUNDS, "rate_limit_per_hour"),
    )
    min_interval_seconds = models.FloatField(
        _("minimum interval (s)"), default=0, validators=within(BOUNDS, "min_interval_seconds")
    )
    interval_jitter_seconds = models.FloatField(
        _("random extra interval (s)"),
        default=0,
        help_text=_("Up to this much is added to each interval, e.g. 3"),
        validators=within(BOUNDS, "interval_jitter_seconds"),
    )
    pause_every_n_sends = models.PositiveIntegerField(
        _("pause after every N sends"), null=True, blank=True, validators=within(BOUNDS, "pause_every_n_sends")
    )
    pause_seconds = models.PositiveIntegerField(
        _("pause length (s)"), default=0, validators=within(BOUNDS, "pause_seconds")
    )
    retry_failed = models.BooleanField(_("retry when the provider is unavailable"), default=True)
    max_retries = models.PositiveSmallIntegerField(
        _("max retries"), default=3, validators=within(BOUNDS, "max_retries")
    )
    execution_window_start = models.TimeField(_("window start"), null=True, blank=True, help_text=_("e.g. 09:00"))
    execution_window_end = models.TimeField(_("window end"), null=True, blank=True, help_text=_("e.g. 18:00"))
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="America/Sao_Paulo",
        help_text=_("IANA name, e.g. America/Sao_Paulo"),
        validators=[validate_time_zone],
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    # Aggregates, written when an execution finishes (never per message).
    total_executions = models.PositiveIntegerField(_("executions"), default=0)
    total_sent = models.PositiveIntegerField(_("sent"), default=0)
    total_delivered = models.PositiveIntegerField(_("delivered"), default=0)
    total_read = models.PositiveIntegerField(_("read"), default=0)
    total_replied = models.PositiveIntegerField(_("replied"), default=0)
    total_completed = models.PositiveIntegerField(_("completed"), default=0)
    total_failed = models.PositiveIntegerField(_("failed"), default=0)
    last_executed_at = models.DateTimeField(_("last executed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-id"]
        indexes = [
            # The API and admin list live campaigns per organization.
            models.Index(
                fields=["organization", "status"], condition=Q(deleted_at=None), name="campaigns_campaign_live"
            ),
        ]
        constraints = [
            in_range_constraint(
                BOUNDS,
                name="campaigns_campaign_numbers_in_range",
                nullable=("rate_limit_per_hour", "pause_every_n_sends"),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    def ordered_instances(self) -> list:
        """Its sending numbers, the API's `whatsapp_number_id` first."""
        return [link.instance for link in self.campaign_instances.select_related("instance").order_by("position")]

    def transition(self, to: str, **fields) -> bool:
        """Move to `to` if allowed from the current status (checked in the UPDATE), writing `fields` with it."""
        sources = [state for state, targets in self.TRANSITIONS.items() if to in targets]
        updated = Campaign.objects.filter(id=self.id, status__in=sources).update(
            status=to, updated_at=timezone.now(), **fields
        )
        if updated:
            self.status = to
            for name, value in fields.items():
                setattr(self, name, value)
        return bool(updated)


class CampaignInstance(models.Model):
    """A number a campaign sends through; `position` 0 is the API's `whatsapp_number_id`."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="campaign_instances"
    )
    instance = models.ForeignKey(
        "instances.WhatsAppInstance", verbose_name=_("WhatsApp number"), on_delete=models.CASCADE, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("campaign's number")
        verbose_name_plural = _("campaign's numbers")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "instance"], name="campaigns_campaigninstance_once"),
        ]
