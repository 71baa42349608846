"""The sandbox's playback settings: their defaults and bounds, and what is wrong with a given set."""

from django.utils.translation import gettext_lazy as _

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
