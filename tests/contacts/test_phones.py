import random

import phonenumbers
import pytest

from contacts.phones import CARRIER_CODES, VALID_DDDS, InvalidPhone, normalize_br_fast, normalize_phone


def library(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, "BR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5511999999999", "+5511999999999"),
        ("+55 (11) 99999-9999", "+5511999999999"),
        ("11 99999-9999", "+5511999999999"),
        ("011999999999", "+5511999999999"),
        ("(11) 3333-4444", "+551133334444"),
        ("0 15 11 99999-9999", "+5511999999999"),
        ("55 (55) 99999-1234", "+5555999991234"),
        ("+1 650-253-0000", "+16502530000"),
        (5511999999999, "+5511999999999"),
    ],
)
def test_it_normalizes_common_shapes_to_e164(value, expected):
    assert normalize_phone(value) == expected


@pytest.mark.parametrize("value", ["5511999999999", "+55 (11) 99999-9999", "11 99999-9999", "(11) 3333-4444"])
def test_the_common_brazilian_shapes_take_the_fast_path(value):
    assert normalize_br_fast(value) is not None


@pytest.mark.parametrize("value", ["123", "(20) 99999-9999", "abc", "11 1234-5678", "+55 11 9999"])
def test_an_invalid_number_is_an_error_naming_the_value(value):
    with pytest.raises(InvalidPhone) as caught:
        normalize_phone(value)
    assert value in str(caught.value)


@pytest.mark.parametrize("value", ["", "   ", None])
def test_an_empty_number_is_an_error(value):
    with pytest.raises(InvalidPhone, match="empty"):
        normalize_phone(value)


def test_the_valid_ddds_are_the_librarys():
    accepted = {f"{n:02d}" for n in range(100) if library(f"{n:02d}987654321") is not None}
    assert accepted == VALID_DDDS


def _shapes(rng: random.Random, ddd: str, subscriber: str) -> list[str]:
    national = ddd + subscriber
    formatted = f"({ddd}) {subscriber[:-4]}-{subscriber[-4:]}"
    carrier = rng.choice(sorted(CARRIER_CODES) + ["11", "13", "20", "42"])
    return [
        national,
        formatted,
        f"{ddd} {subscriber}",
        f"0{national}",
        f"0{carrier}{national}",
        f"0 {carrier} {formatted}",
        f"55{national}",
        f"+55{national}",
        f"+55 {formatted}",
        f" +55.{ddd}.{subscriber} ",
        f"+{national}",
        f"+1{national}",
        f"90{national}",
        f"00{national}",
        f"5{national}",
        f"55 0{national}",
        f"{national}9",
        f"{ddd}-{subscriber}x",
        f"{national[:-1]}",
        f"++55{national}",
    ]


def test_the_fast_path_agrees_with_the_library_on_every_ddd():
    """Every area code 00-99, subscriber numbers of 7-10 digits starting with each digit, many shapes."""
    rng = random.Random(20241123)
    checked = fast_hits = 0
    for area in range(100):
        ddd = f"{area:02d}"
        for first in "0123456789":
            for length in (7, 8, 9, 10):
                subscriber = first + "".join(rng.choice("0123456789") for _ in range(length - 1))
                for value in _shapes(rng, ddd, subscriber):
                    expected = library(value)
                    fast = normalize_br_fast(value)
                    if fast is not None:
                        fast_hits += 1
                        assert fast == expected, value
                    if expected is None:
                        with pytest.raises(InvalidPhone):
                            normalize_phone(value)
                    else:
                        assert normalize_phone(value) == expected, value
                    checked += 1
    assert checked == 100 * 10 * 4 * 20
    # The fast path is not vacuous: valid mobiles and landlines of every DDD go through it.
    assert fast_hits > len(VALID_DDDS) * 2 * 9


def test_the_fast_path_agrees_with_the_library_on_random_digit_strings():
    rng = random.Random(7)
    for _ in range(20_000):
        value = "".join(rng.choice("0123456789") for _ in range(rng.randint(8, 15)))
        if rng.random() < 0.3:
            value = "+" + value
        fast = normalize_br_fast(value)
        if fast is not None:
            assert fast == library(value), value
