"""Bot controls: the typed settings of one organization, over the environment's defaults.

Each key has a type; a `SystemSetting` row overrides the default of its organization.
TEST_CONTACT_IDS lists contact ids or E.164 phones; in test mode only they get answers.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from flows.models import SystemSetting


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
}


# The sane range of each number setting: a debounce of 10 minutes at most, a cooldown of an hour.
NUMBER_BOUNDS = {"DEBOUNCE_TIME": (0, 600_000), "MESSAGE_COOLDOWN": (0, 3_600)}


@dataclass(frozen=True)
class BotSettings:
    BOT_ENABLED: bool
    BOT_STATUS: str
    TEST_MODE: bool
    TEST_CONTACT_IDS: tuple
    DEBOUNCE_TIME: int
    MESSAGE_COOLDOWN: int

    @property
    def answers(self) -> bool:
        return self.BOT_ENABLED and self.BOT_STATUS == "active"

    def is_test_contact(self, contact) -> bool:
        wanted = {str(value) for value in self.TEST_CONTACT_IDS}
        return str(contact.id) in wanted or contact.phone in wanted


def parse_setting(key: str, raw):
    """The typed value of `raw` (text or an already-typed value) for `key`; SettingError says why not."""
    if key not in SETTINGS:
        raise SettingError(_("Unknown setting %(key)s.") % {"key": key})
    kind = SETTINGS[key][0]
    if kind == SystemSetting.Type.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "on", "sim"):
            return True
        if text in ("false", "0", "no", "off", "nao", "não"):
            return False
        raise SettingError(_("Must be true or false."))
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


def encode_setting(key: str, value) -> str:
    kind = SETTINGS[key][0]
    if kind == SystemSetting.Type.BOOLEAN:
        return "true" if value else "false"
    if kind == SystemSetting.Type.JSON:
        return json.dumps(list(value))
    return str(value)


def default_settings() -> dict:
    return {key: parse_setting(key, settings.FLOWS_BOT_DEFAULTS[key]) for key in SETTINGS}


def get_bot_settings(*, organization_id: int) -> BotSettings:
    """The organization's settings in one query; a broken stored value falls back to the default."""
    values = default_settings()
    for key, raw in SystemSetting.objects.filter(organization_id=organization_id).values_list("key", "value"):
        try:
            values[key] = parse_setting(key, raw)
        except SettingError:
            continue
    return BotSettings(**values)


def describe_settings(*, organization_id: int) -> list[dict]:
    """Every key with its type, value, default and description (for the API)."""
    stored = dict(SystemSetting.objects.filter(organization_id=organization_id).values_list("key", "value"))
    defaults = default_settings()
    current = get_bot_settings(organization_id=organization_id)
    return [
        {
            "key": key,
            "type": kind,
            "value": _jsonable(getattr(current, key)),
            "default": _jsonable(defaults[key]),
            "is_default": key not in stored,
            "description": str(description),
        }
        for key, (kind, description) in SETTINGS.items()
    ]


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value


@transaction.atomic
def set_setting(*, organization_id: int, key: str, value) -> SystemSetting:
    """Store `value` for `key`; raises SettingError naming what is wrong."""
    typed = parse_setting(key, value)
    kind, description = SETTINGS[key]
    setting, _created = SystemSetting.objects.update_or_create(
        organization_id=organization_id,
        key=key,
        defaults={"value": encode_setting(key, typed), "value_type": kind, "description": str(description)},
    )
    return setting


def set_bot_enabled(*, organization_id: int, enabled: bool) -> BotSettings:
    with transaction.atomic():
        set_setting(organization_id=organization_id, key="BOT_ENABLED", value=enabled)
        if enabled:
            set_setting(organization_id=organization_id, key="BOT_STATUS", value="active")
    return get_bot_settings(organization_id=organization_id)


def set_test_mode(*, organization_id: int, enabled: bool, contact_ids: list | None = None) -> BotSettings:
    with transaction.atomic():
        set_setting(organization_id=organization_id, key="TEST_MODE", value=enabled)
        if contact_ids is not None:
            set_setting(organization_id=organization_id, key="TEST_CONTACT_IDS", value=contact_ids)
    return get_bot_settings(organization_id=organization_id)
