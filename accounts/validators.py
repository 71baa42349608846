from functools import cache
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_time_zone(value: str) -> None:
    """An IANA time zone name (`America/Sao_Paulo`); anything else would break the workers that use it."""
    if value not in _zones():
        raise ValidationError(
            _("Unknown time zone %(zone)s; use an IANA name, e.g. America/Sao_Paulo."), params={"zone": value[:64]}
        )
