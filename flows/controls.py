"""Bot controls: the typed settings of one organization, over the environment's defaults.

Each key has a type (`flows.models.settings.SETTINGS`); a `SystemSetting` row overrides the default of its organization.
TEST_CONTACT_IDS lists contact ids, E.164 phones or GOSAC contact ids; in test mode only
they get answers. Keys beyond these are the organization's own (typed, validated by their
type, kept for its scripts and flows): `PUT /settings/MY_KEY {"value", "type"}`.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from flows.models.settings import (
    CUSTOM_KEY,
    SETTINGS,
    SettingError,
    SystemSetting,
    encode_setting,
    parse_custom,
    parse_setting,
)


@dataclass(frozen=True)
class BotSettings:
    BOT_ENABLED: bool
    BOT_STATUS: str
    TEST_MODE: bool
    TEST_CONTACT_IDS: tuple
    DEBOUNCE_TIME: int
    MESSAGE_COOLDOWN: int
    BOT_SKIP_TAKEN_TICKETS: bool = True
    HANDOFF_HOURS: int = 12

    @property
    def answers(self) -> bool:
        return self.BOT_ENABLED and self.BOT_STATUS == "active"

    def is_test_contact(self, contact, *, external_contact_id: str = "") -> bool:
        """Our contact id, its E.164 phone, or the provider's contact id (GOSAC's `contactId`).

        The old chatbot's TEST_CONTACT_ID (24914) is a GOSAC contact id, so a value matches
        any of the three; ids are distinct number spaces but the old deployments had no
        other, and a tester is one person either way.
        """
        wanted = {str(value) for value in self.TEST_CONTACT_IDS}
        return (
            str(contact.id) in wanted
            or contact.phone in wanted
            or (bool(external_contact_id) and str(external_contact_id) in wanted)
        )

    @property
    def test_contact_id(self):
        """The old API's singular `test_contact_id`: the first test contact, or None."""
        return self.TEST_CONTACT_IDS[0] if self.TEST_CONTACT_IDS else None


def default_settings() -> dict:
    return {key: parse_setting(key, settings.FLOWS_BOT_DEFAULTS[key]) for key in SETTINGS}


def get_bot_settings(*, organization_id: int) -> BotSettings:
    """The organization's settings in one query; a broken stored value falls back to the default."""
    values = default_settings()
    stored = SystemSetting.objects.filter(organization_id=organization_id, key__in=list(SETTINGS))
    for key, raw in stored.values_list("key", "value"):
        try:
            values[key] = parse_setting(key, raw)
        except SettingError:
            continue
    return BotSettings(**values)


def bot_summary(*, organization_id: int | None) -> dict:
    """What `/health` tells of the bot: an organization's controls, or the environment's defaults."""
    if organization_id is None:
        bot = BotSettings(**default_settings())
    else:
        bot = get_bot_settings(organization_id=organization_id)
    summary = {"bot_enabled": bot.BOT_ENABLED, "bot_status": bot.BOT_STATUS, "test_mode": bot.TEST_MODE}
    if organization_id is not None:
        summary["organization"] = organization_id
    return summary


def describe_settings(*, organization_id: int) -> dict[str, dict]:
    """Every key, the bot's then the organization's own, with its type, value and description.

    The old chatbot's `GET /settings` shape: `{"BOT_ENABLED": {"value": true, "type":
    "boolean", "description": "…"}, …}`; `default` and `is_default` are ours.
    """
    stored = {row.key: row for row in SystemSetting.objects.filter(organization_id=organization_id)}
    defaults = default_settings()
    current = get_bot_settings(organization_id=organization_id)
    described = {}
    for key, (kind, description) in SETTINGS.items():
        row = stored.get(key)
        described[key] = {
            "key": key,
            "value": _jsonable(getattr(current, key)),
            "type": kind,
            "description": (row.description if row and row.description else str(description)),
            "default": _jsonable(defaults[key]),
            "is_default": row is None,
        }
    for key, row in sorted(stored.items()):
        if key in SETTINGS:
            continue
        try:
            value = parse_custom(row.value, row.value_type)
        except SettingError:
            value = row.value
        described[key] = {
            "key": key,
            "value": value,
            "type": row.value_type,
            "description": row.description,
            "default": None,
            "is_default": False,
        }
    return described


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value


class SettingFieldError(SettingError):
    """A SettingError about another field than `value` (`field` names it)."""

    def __init__(self, field: str, message):
        self.field = field
        super().__init__(message)


@transaction.atomic
def set_setting(
    *, organization_id: int, key: str, value, kind: str | None = None, description: str | None = None
) -> SystemSetting:
    """Store `value` for `key`; raises SettingError naming what is wrong.

    A bot key keeps its own type (a different `kind` is an error); an organization's own
    key takes `kind`, or the type it already has, or `string`.
    """
    if kind is not None and kind not in SystemSetting.Type.values:
        raise SettingFieldError(
            "type", _("Must be one of: %(choices)s.") % {"choices": ", ".join(SystemSetting.Type.values)}
        )
    if key in SETTINGS:
        own_kind, own_description = SETTINGS[key]
        if kind is not None and kind != own_kind:
            raise SettingFieldError("type", _("%(key)s is a %(type)s setting.") % {"key": key, "type": own_kind})
        kind = own_kind
    else:
        if not CUSTOM_KEY.match(key):
            raise SettingFieldError("key", _("Use letters, digits and _, starting with a letter (at most 64)."))
        existing = SystemSetting.objects.filter(organization_id=organization_id, key=key).first()
        kind = kind or (existing.value_type if existing else SystemSetting.Type.STRING)
        own_description = existing.description if existing else ""
    typed = parse_setting(key, value, kind=kind)
    encoded = encode_setting(key, typed, kind=kind)
    if "\x00" in encoded:
        raise SettingError(_("Must not contain NUL characters."))  # PostgreSQL text cannot hold them
    if description is not None and "\x00" in str(description):
        raise SettingFieldError("description", _("Must not contain NUL characters."))
    defaults = {"value": encoded, "value_type": kind}
    if description is not None:
        defaults["description"] = str(description)[:300]
    elif key in SETTINGS:
        defaults["description"] = str(own_description)
    setting, _created = SystemSetting.objects.update_or_create(
        organization_id=organization_id, key=key, defaults=defaults
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
