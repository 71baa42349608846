"""An organization's bot settings: the row, and the typed keys its value is parsed by (`SETTINGS`)."""

import json
import math
import re

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
        try:
            parse_setting(self.key, self.value, kind=self.value_type)
        except SettingError as exc:
            raise ValidationError({"value": str(exc)}) from None


class SettingError(ValueError):
    pass


BOT_STATUSES = ("active", "paused", "maintenance")

# key: (type, description)
SETTINGS = {
    "BOT_ENABLED": (SystemSetting.Type.BOOLEAN, _("Whether the bot answers inbound messages at all")),
    "BOT_STATUS": (SystemSetting.Type.STRING, _("active, paused or maintenance; only active answers")),
    "TEST_MODE": (SystemSetting.Type.BOOLEAN, _("Answer only the contacts in TEST_CONTACT_IDS")),
    "TEST_CONTACT_IDS": (
        SystemSetting.Type.JSON,
        _('Contact ids or phones answered in test mode, e.g. [12, "+5511…"]'),
    ),
    "DEBOUNCE_TIME": (SystemSetting.Type.NUMBER, _("Milliseconds of silence that end a burst of messages")),
    "MESSAGE_COOLDOWN": (SystemSetting.Type.NUMBER, _("Seconds the bot waits between its replies to one contact")),
    "BOT_SKIP_TAKEN_TICKETS": (
        SystemSetting.Type.BOOLEAN,
        _("Leave alone a GOSAC ticket that is closed or that a person has taken (userId set)"),
    ),
    "HANDOFF_HOURS": (SystemSetting.Type.NUMBER, _("Hours the bot stays quiet with a contact a person took over")),
}

# An organization's own keys: letters, digits and _ (the old clients' style is UPPER_CASE).
CUSTOM_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


# The sane range of each number setting: a debounce of 10 minutes at most, a cooldown of an hour.
NUMBER_BOUNDS = {"DEBOUNCE_TIME": (0, 600_000), "MESSAGE_COOLDOWN": (0, 3_600), "HANDOFF_HOURS": (1, 24 * 30)}


def parse_setting(key: str, raw, *, kind: str | None = None):
    """The typed value of `raw` (text or an already-typed value) for `key`; SettingError says why not.

    A key of the bot's has its own type; an organization's own key takes `kind`.
    """
    if key not in SETTINGS:
        if kind is None:
            raise SettingError(_("Unknown setting %(key)s.") % {"key": key})
        return parse_custom(raw, kind)
    kind = SETTINGS[key][0]
    if kind == SystemSetting.Type.BOOLEAN:
        return parse_boolean(raw)
    if kind == SystemSetting.Type.NUMBER:
        low, high = NUMBER_BOUNDS[key]
        try:
            value = int(raw) if not isinstance(raw, bool) else None
        except (TypeError, ValueError, OverflowError):
            value = None
        if value is None or not low <= value <= high:
            raise SettingError(_("Must be a whole number from %(low)s to %(high)s.") % {"low": low, "high": high})
        return value
    if kind == SystemSetting.Type.JSON:
        value = raw
        if isinstance(raw, str):
            try:
                value = json.loads(raw) if raw.strip() else []
            except ValueError:
                raise SettingError(_("Must be valid JSON.")) from None
        if not isinstance(value, list) or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
            raise SettingError(_("Must be a list of contact ids or phones."))
        return tuple(value)
    value = str(raw).strip()
    if key == "BOT_STATUS" and value not in BOT_STATUSES:
        raise SettingError(_("Must be one of: %(choices)s.") % {"choices": ", ".join(BOT_STATUSES)})
    return value


def parse_boolean(raw) -> bool:
    """true/false, 1/0, yes/no, on/off, sim/não, as the old chatbot's settings were written."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on", "sim"):
        return True
    if text in ("false", "0", "no", "off", "nao", "não"):
        return False
    raise SettingError(_("Must be true or false."))


def parse_custom(raw, kind: str):
    """An organization's own setting: any value its type allows (a number may have decimals)."""
    if kind == SystemSetting.Type.BOOLEAN:
        return parse_boolean(raw)
    if kind == SystemSetting.Type.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise SettingError(_("Must be a number."))
        try:
            value = float(raw) if isinstance(raw, str) else raw
        except ValueError:
            raise SettingError(_("Must be a number.")) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise SettingError(_("Must be a number."))
        return int(value) if isinstance(value, float) and value.is_integer() else value
    if kind == SystemSetting.Type.JSON:
        if isinstance(raw, str):
            try:
                return json.loads(raw)
            except ValueError:
                raise SettingError(_("Must be valid JSON.")) from None
        return raw
    if kind == SystemSetting.Type.STRING:
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise SettingError(_("Must be text."))
        return str(raw)
    raise SettingError(_("Must be one of: %(choices)s.") % {"choices": ", ".join(SystemSetting.Type.values)})


def encode_setting(key: str, value, *, kind: str | None = None) -> str:
    kind = SETTINGS[key][0] if key in SETTINGS else kind
    if kind == SystemSetting.Type.BOOLEAN:
        return "true" if value else "false"
    if kind == SystemSetting.Type.JSON:
        return json.dumps(list(value) if isinstance(value, tuple) else value)
    return str(value)
