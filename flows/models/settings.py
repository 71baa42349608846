from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel


class SystemSetting(TenantModel):
    """A bot setting of one organization; keys without a row use the environment's default."""

    class Type(models.TextChoices):
        STRING = "string", _("Text")
        BOOLEAN = "boolean", _("Yes/no")
        NUMBER = "number", _("Number")
        JSON = "json", _("JSON")

    key = models.CharField(_("key"), max_length=64, help_text=_("e.g. BOT_ENABLED"))
    value = models.TextField(_("value"), blank=True, help_text=_('As text: true, 3000, active, ["+5511999999999"]'))
    value_type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.STRING)
    description = models.CharField(_("description"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("system setting")
        verbose_name_plural = _("system settings")
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="flows_systemsetting_unique_key"),
        ]

    def __str__(self):
        return self.key

    def clean(self):
        from flows.controls import SettingError, parse_setting

        try:
            parse_setting(self.key, self.value, kind=self.value_type)
        except SettingError as exc:
            raise ValidationError({"value": str(exc)}) from None
