"""Which local dates a schedule does not run on: blackout dates, weekends and holidays.

Holidays come from the `holidays` package: the country's public holidays plus the
subdivision's (state's), and the optional category (Carnaval, Ash Wednesday, ...) only
when the schedule asks for it. Each (country, subdivision, categories, language, year)
table is built once per process.
"""

from datetime import date
from functools import lru_cache

import holidays
from django.utils import translation

WEEKEND = (5, 6)  # Saturday, Sunday


@lru_cache(maxsize=512)
def _year_holidays(country: str, subdivision: str, optional: bool, language: str, year: int) -> dict[date, str]:
    categories = ("public", "optional") if optional else ("public",)
    supported = holidays.country_holidays(country).supported_categories
    table = holidays.country_holidays(
        country,
        subdiv=subdivision or None,
        years=year,
        categories=tuple(c for c in categories if c in supported),
        language=language,
    )
    return dict(table.items())


def holiday_language() -> str:
    return "pt_BR" if (translation.get_language() or "").lower().startswith("pt") else "en_US"


def holiday_name(schedule, day: date) -> str | None:
    """The holiday's name when `day` is one for this schedule, else None."""
    table = _year_holidays(
        schedule.holiday_country or "BR",
        schedule.holiday_subdivision or "",
        bool(schedule.include_optional_holidays),
        holiday_language(),
        day.year,
    )
    return table.get(day)


def blocked_reason(schedule, day: date, blackout: frozenset) -> tuple[str, str] | None:
    """(reason, detail) when the schedule does not run on local date `day`, else None."""
    if day in blackout:
        return "blackout", day.isoformat()
    if schedule.skip_weekends and day.weekday() in WEEKEND:
        return "weekend", day.strftime("%A")
    if schedule.skip_holidays:
        name = holiday_name(schedule, day)
        if name:
            return "holiday", name
    return None


def check_holiday_settings(country: str, subdivision: str) -> dict:
    """Errors naming the field for an unknown country or subdivision."""
    try:
        entity = holidays.country_holidays(country)
    except NotImplementedError:
        return {"holiday_country": f"Unknown country code {country!r}."}
    if subdivision and subdivision not in entity.subdivisions:
        return {"holiday_subdivision": f"Unknown subdivision {subdivision!r} of {country}."}
    return {}
