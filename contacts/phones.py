"""Phone numbers to E.164.

`normalize_phone` is the one entry point every app uses. phonenumbers decides what is
valid; the fast path below only short-cuts the shapes Brazilian files are made of
(digits with punctuation, with or without 55, a leading 0 or 0 + carrier code), and
hands everything else to the library. tests/contacts/test_phones.py proves the two
agree on every DDD.
"""

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _


class InvalidPhone(ValueError):
    def __init__(self, value):
        self.value = value
        if value is None or str(value).strip() == "":
            message = _("Phone number is empty.")
        else:
            message = _('"%(value)s" is not a valid phone number.') % {"value": value}
        super().__init__(message)


# Area codes in use (Anatel); the same list as the library's BR fixed-line/mobile patterns.
VALID_DDDS = frozenset(
    [str(n) for n in range(11, 20)]
    + ["21", "22", "24", "27", "28", "31", "32", "33", "34", "35", "37", "38"]
    + [str(n) for n in range(41, 50)]
    + ["51", "53", "54", "55"]
    + [str(n) for n in range(61, 70)]
    + ["71", "73", "74", "75", "77", "79"]
    + [str(n) for n in range(81, 90)]
    + [str(n) for n in range(91, 100)]
)
# Long-distance carrier codes dialled after the national prefix 0 ("0 15 11 9…").
CARRIER_CODES = frozenset(["12", "14", "15", "21", "22", "23", "25", "31", "41", "43", "55", "65", "99"])
_LANDLINE_FIRST = frozenset("2345")


def _strip_punctuation(value: str) -> str:
    # Chained str.replace is several times faster than str.translate for deletions,
    # and this runs once per row of a million-row import.
    if value.isdigit():
        return value
    return value.replace(" ", "").replace("-", "").replace("(", "").replace(")", "").replace(".", "")


def normalize_phone(value, region: str | None = None) -> str:
    """`value` as E.164 (`+5511999999999`); raises InvalidPhone naming the value."""
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidPhone(value)
    region = region or settings.PHONE_DEFAULT_REGION
    if region == "BR":
        fast = normalize_br_fast(value)
        if fast is not None:
            return fast
    return normalize_with_library(value, region)


def normalize_with_library(value: str, region: str) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(value) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_br_fast(value: str) -> str | None:
    """E.164 for a common Brazilian mobile/landline shape, or None to ask the library.

    Mirrors what phonenumbers does with region BR: a leading + needs 55; 12 or 13
    digits starting with 55 are too long to be national, so 55 is the country code;
    a leading 0 is the national prefix, followed by a carrier code when 10 or 11
    digits remain after it. Never returns a number the library would reject.
    """
    value = value.strip()
    if value[:1] == "+":
        digits = _strip_punctuation(value[1:])
        if digits[:2] != "55":
            return None
        national = digits[2:]
    else:
        digits = _strip_punctuation(value)
        length = len(digits)
        if digits[:1] == "0":
            if length in (11, 12):
                national = digits[1:]
            elif length in (13, 14) and digits[1:3] in CARRIER_CODES:
                national = digits[3:]
            else:
                return None
        elif length in (10, 11):
            national = digits
        elif length in (12, 13) and digits[:2] == "55":
            national = digits[2:]
        else:
            return None
    if not (national.isdigit() and national.isascii()) or national[:2] not in VALID_DDDS:
        return None
    subscriber_length = len(national) - 2
    first = national[2:3]
    if (subscriber_length == 9 and first == "9") or (subscriber_length == 8 and first in _LANDLINE_FIRST):
        return "+55" + national
    return None
