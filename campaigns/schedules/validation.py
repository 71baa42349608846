"""Reading schedule and exception bodies: each bad value is a ValidationError naming its path.

Paths are flat, as clients read them: `recurrence_config.days[1]`,
`recurrence_config.expression`, `execution_timezone`, `end_date`, `modified_config.foo`.
What is stored is rebuilt from the validated values (never the raw body), so unknown keys,
NUL characters and odd shapes never reach the database.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from campaigns.models.campaign import BOUNDS as CAMPAIGN_BOUNDS
from campaigns.schedules.calendars import check_holiday_settings
from campaigns.schedules.models import Schedule, ScheduleException
from campaigns.schedules.occurrences import WEEKDAYS

MODIFIABLE = {
    "rate_limit_per_hour": "int",
    "max_concurrent_executions": "int",
    "min_interval_seconds": "number",
    "interval_jitter_seconds": "number",
    "execution_window_start": "time",
    "execution_window_end": "time",
}
CONFIG_KEYS = {
    "once": set(),
    "daily": {"interval"},
    "weekly": {"days", "interval"},
    "monthly": {"day", "interval"},
    "cron": {"expression"},
    "custom": {"dates"},
}
MAX_CUSTOM_DATES = 1000
MAX_OCCURRENCES = 100_000


def _text(value, path: str, max_length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or "\x00" in value:
        raise ValidationError({path: _("Must be text.")})
    if len(value) > max_length:
        raise ValidationError({path: _("At most %(n)d characters.") % {"n": max_length}})
    return value


def parse_zone(value, path: str = "execution_timezone") -> str:
    if not isinstance(value, str) or not value or "\x00" in value or len(value) > 64:
        raise ValidationError({path: _("Must be an IANA time zone name, e.g. America/Sao_Paulo.")})
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError({path: _("Unknown time zone %(v)r.") % {"v": value}}) from None
    return value


def parse_time(value, path: str) -> time:
    if isinstance(value, time):
        return value
    try:
        parsed = time.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationError({path: _("Must be a time, e.g. 09:00:00.")}) from None
    return parsed.replace(tzinfo=None)


def parse_datetime(value, path: str, zone: str) -> datetime:
    """An ISO instant; without an offset a local time in `zone`; a date alone is its local midnight."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if isinstance(value, str) else value)
        except (TypeError, ValueError, AttributeError):
            raise ValidationError({path: _("Must be a date and time, e.g. 2025-11-25T09:00:00Z.")}) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed.astimezone(UTC)


def parse_local_date(value, path: str, zone: str) -> tuple[date, time | None]:
    """A local date (and time, when one was given) from "2025-11-20" or "2025-11-20T09:00:00Z"."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value, None
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value), None
        except ValueError:
            raise ValidationError({path: _("Must be a date, e.g. 2025-11-20.")}) from None
    instant = parse_datetime(value, path, zone).astimezone(ZoneInfo(zone))
    return instant.date(), instant.time().replace(tzinfo=None)


def _int(value, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ValidationError(
            {path: _("Must be a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}}
        )
    number = int(value)
    if not low <= number <= high:
        raise ValidationError(
            {path: _("Must be a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}}
        )
    return number


def _bool(value, path: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError({path: _("Must be true or false.")})
    return value


def check_cron(expression, path: str = "recurrence_config.expression") -> str:
    if not isinstance(expression, str) or not expression.strip() or "\x00" in expression:
        raise ValidationError({path: _("Give a cron expression, e.g. 0 9 * * MON-FRI.")})
    expression = " ".join(expression.split())
    if len(expression.split()) != 5:
        raise ValidationError({path: _("A cron expression has 5 fields (minute hour day month weekday).")})
    try:
        croniter(expression, datetime(2025, 1, 1)).get_next(datetime)
    except (CroniterError, ValueError, KeyError) as error:
        raise ValidationError({path: str(error) or _("Not a valid cron expression.")}) from None
    return expression


def recurrence_config(kind: str, config, zone: str) -> dict:
    if config in (None, ""):
        config = {}
    if not isinstance(config, dict):
        raise ValidationError({"recurrence_config": _("Must be an object.")})
    if config.get("type") not in (None, kind):
        raise ValidationError({"recurrence_config.type": _("Must repeat recurrence_type (%(k)s).") % {"k": kind}})
    unknown = sorted(set(config) - CONFIG_KEYS[kind] - {"type"})
    if unknown:
        raise ValidationError(
            {f"recurrence_config.{unknown[0]}": _("Not a setting of a %(k)s schedule.") % {"k": kind}}
        )
    clean = {"type": kind}
    if "interval" in CONFIG_KEYS[kind]:
        clean["interval"] = _int(config.get("interval", 1), "recurrence_config.interval", 1, 1000)
    if kind == "weekly":
        days = config.get("days")
        if not isinstance(days, list) or not days:
            raise ValidationError({"recurrence_config.days": _('Give the days of the week, e.g. ["MON", "WED"].')})
        for i, day in enumerate(days):
            if not isinstance(day, str) or day.upper() not in WEEKDAYS:
                raise ValidationError(
                    {f"recurrence_config.days[{i}]": _("Must be one of %(days)s.") % {"days": ", ".join(WEEKDAYS)}}
                )
        clean["days"] = sorted({d.upper() for d in days}, key=WEEKDAYS.index)
    elif kind == "monthly":
        clean["day"] = _int(config.get("day"), "recurrence_config.day", 1, 31)
    elif kind == "cron":
        clean["expression"] = check_cron(config.get("expression"))
    elif kind == "custom":
        dates = config.get("dates")
        if not isinstance(dates, list) or not dates:
            raise ValidationError({"recurrence_config.dates": _("Give at least one date and time.")})
        if len(dates) > MAX_CUSTOM_DATES:
            raise ValidationError({"recurrence_config.dates": _("At most %(n)d dates.") % {"n": MAX_CUSTOM_DATES}})
        instants = [parse_datetime(d, f"recurrence_config.dates[{i}]", zone) for i, d in enumerate(dates)]
        clean["dates"] = [i.isoformat().replace("+00:00", "Z") for i in sorted(set(instants))]
    return clean


class _Collected:
    """Runs each field's check and keeps every error, so one 400 names every bad field (as DRF does)."""

    def __init__(self):
        self.errors: dict[str, list] = {}

    def check(self, parse, *args, default=None):
        try:
            return parse(*args)
        except ValidationError as error:
            for path, messages in error.message_dict.items():
                self.errors.setdefault(path, []).extend(messages)
            return default

    def raise_any(self):
        if self.errors:
            raise ValidationError(self.errors)


def schedule_fields(data, *, current: Schedule | None, default_zone: str) -> dict:
    """The model fields a create (current=None) or an update sets from `data`.

    Every bad field is reported at once. A custom schedule without `start_date` starts on
    its earliest listed date (the old docs' custom example has none).
    """
    if not isinstance(data, dict):
        raise ValidationError({"detail": _("The body must be a JSON object.")})

    def given(name):
        return name in data and data[name] is not None

    out = {}
    found = _Collected()
    fallback_zone = current.execution_timezone if current else default_zone
    zone = found.check(parse_zone, data["execution_timezone"]) if given("execution_timezone") else None
    zone = zone or fallback_zone
    out["execution_timezone"] = zone
    kind = data.get("recurrence_type", current.recurrence_type if current else None)
    if kind not in Schedule.RecurrenceType.values:
        found.errors["recurrence_type"] = [
            _("Must be one of %(v)s.") % {"v": ", ".join(Schedule.RecurrenceType.values)}
        ]
        kind = None
    out["recurrence_type"] = kind
    if kind is not None:
        config = data.get("recurrence_config", current.recurrence_config if current else {})
        out["recurrence_config"] = found.check(recurrence_config, kind, config, zone, default={})
    start_time = found.check(parse_time, data["start_time"], "start_time") if given("start_time") else None
    if given("start_date"):
        start_date, time_of_date = found.check(
            parse_local_date, data["start_date"], "start_date", zone, default=(None, None)
        )
        if start_date is not None:
            out["start_date"] = start_date
        start_time = start_time or time_of_date
    elif current is None and kind == "custom" and out.get("recurrence_config", {}).get("dates"):
        first = parse_datetime(out["recurrence_config"]["dates"][0], "recurrence_config.dates[0]", zone)
        out["start_date"] = first.astimezone(ZoneInfo(zone)).date()
    elif current is None and not (kind == "custom" and "recurrence_config.dates" in found.errors):
        found.errors["start_date"] = [_("This field is required.")]
    if start_time is not None:
        out["start_time"] = start_time
    elif current is None:
        if kind not in ("cron", "custom", None):
            found.errors.setdefault("start_time", [_("This field is required.")])
        out["start_time"] = time(0, 0)
    if "end_date" in data:
        end = (
            found.check(parse_local_date, data["end_date"], "end_date", zone, default=(None,))
            if given("end_date")
            else (None,)
        )
        out["end_date"] = end[0]
    if "max_occurrences" in data:
        value = data["max_occurrences"]
        out["max_occurrences"] = (
            None if value is None else found.check(_int, value, "max_occurrences", 1, MAX_OCCURRENCES)
        )
    for name in ("execution_window_start", "execution_window_end"):
        if name in data:
            out[name] = found.check(parse_time, data[name], name) if given(name) else None
    if "blackout_dates" in data:
        days = data["blackout_dates"] or []
        if not isinstance(days, list) or len(days) > 1000:
            found.errors["blackout_dates"] = [_('Must be a list of dates, e.g. ["2025-12-25"].')]
        else:
            parsed = [found.check(parse_local_date, d, f"blackout_dates[{i}]", zone) for i, d in enumerate(days)]
            out["blackout_dates"] = sorted({p[0].isoformat() for p in parsed if p is not None})
    for name in ("skip_weekends", "skip_holidays", "include_optional_holidays", "is_active"):
        if given(name):
            out[name] = found.check(_bool, data[name], name)
    if given("holiday_country"):
        out["holiday_country"] = (found.check(_text, data["holiday_country"], "holiday_country", 2) or "").upper()
    if "holiday_subdivision" in data:
        out["holiday_subdivision"] = (
            found.check(_text, data["holiday_subdivision"], "holiday_subdivision", 8) or ""
        ).upper()
    if given("overlap_policy"):
        if data["overlap_policy"] not in Schedule.OverlapPolicy.values:
            found.errors["overlap_policy"] = [
                _("Must be one of %(v)s.") % {"v": ", ".join(Schedule.OverlapPolicy.values)}
            ]
        else:
            out["overlap_policy"] = data["overlap_policy"]
    if given("catchup_window"):
        out["catchup_window"] = found.check(_duration, data["catchup_window"], "catchup_window")
    found.raise_any()
    _check_whole(out, current)
    return out


def _duration(value, path: str) -> timedelta:
    """Seconds (a number) or "HH:MM:SS"."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 7 * 86400:
        return timedelta(seconds=value)
    if isinstance(value, str) and value.count(":") == 2:
        try:
            hours, minutes, seconds = (int(part) for part in value.split(":"))
            if hours >= 0 and 0 <= minutes < 60 and 0 <= seconds < 60:
                return timedelta(hours=hours, minutes=minutes, seconds=seconds)
        except ValueError:
            pass
    raise ValidationError({path: _("Seconds (e.g. 3600) or HH:MM:SS (e.g. 01:00:00), at most 7 days.")})


def _check_whole(out: dict, current: Schedule | None) -> None:
    def value(name):
        return out[name] if name in out else getattr(current, name, None)

    start, end = value("start_date"), value("end_date")
    if end is not None and start is not None and end < start:
        raise ValidationError({"end_date": _("Must not be before start_date.")})
    if (value("execution_window_start") is None) != (value("execution_window_end") is None):
        raise ValidationError({"execution_window_end": _("Give both the start and the end of the window, or neither.")})
    errors = check_holiday_settings(value("holiday_country") or "BR", value("holiday_subdivision") or "")
    if errors:
        raise ValidationError(errors)


def exception_fields(data, *, schedule: Schedule) -> dict:
    if not isinstance(data, dict):
        raise ValidationError({"detail": _("The body must be a JSON object.")})
    zone = schedule.execution_timezone
    kind = data.get("exception_type")
    if kind not in ScheduleException.Type.values:
        raise ValidationError(
            {"exception_type": _("Must be one of %(v)s.") % {"v": ", ".join(ScheduleException.Type.values)}}
        )
    if data.get("schedule_id") not in (None, schedule.id, str(schedule.id)):
        raise ValidationError({"schedule_id": _("This is not the schedule of this automation.")})
    if data.get("start_date") in (None, ""):
        raise ValidationError({"start_date": _("This field is required.")})
    out = {
        "exception_type": kind,
        "reason": _text(data.get("reason"), "reason", 200),
        "start_date": parse_datetime(data["start_date"], "start_date", zone),
        "end_date": None,
        "rescheduled_to": None,
        "modified_config": {},
    }
    end = data.get("end_date")
    if end not in (None, ""):
        out["end_date"] = parse_datetime(end, "end_date", zone)
        if isinstance(end, str) and len(end) == 10:  # a date alone covers that whole local day
            out["end_date"] += timedelta(days=1, microseconds=-1)
        if out["end_date"] < out["start_date"]:
            raise ValidationError({"end_date": _("Must not be before start_date.")})
    elif kind in ("skip", "modify"):
        raise ValidationError({"end_date": _("This field is required.")})
    if kind == "reschedule":
        if data.get("rescheduled_to") in (None, ""):
            raise ValidationError({"rescheduled_to": _("This field is required.")})
        out["rescheduled_to"] = parse_datetime(data["rescheduled_to"], "rescheduled_to", zone)
    if kind == "modify":
        out["modified_config"] = modified_config(data.get("modified_config"))
    return out


def modified_config(config) -> dict:
    if not isinstance(config, dict) or not config:
        raise ValidationError(
            {"modified_config": _('Give the settings to change, e.g. {"rate_limit_per_hour": 3000}.')}
        )
    clean = {}
    for key, value in config.items():
        path = f"modified_config.{key}"
        kind = MODIFIABLE.get(key)
        if kind is None:
            raise ValidationError(
                {path: _("Cannot be changed by an exception; allowed: %(k)s.") % {"k": ", ".join(MODIFIABLE)}}
            )
        low, high = CAMPAIGN_BOUNDS.get(key, (0, 0))
        if kind == "int":
            clean[key] = _int(value, path, low, high)
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise ValidationError(
                    {path: _("Must be a number of seconds from %(low)s to %(high)s.") % {"low": low, "high": high}}
                )
            clean[key] = float(value)
        else:
            clean[key] = parse_time(value, path).isoformat()
    if ("execution_window_start" in clean) != ("execution_window_end" in clean):
        raise ValidationError({"modified_config.execution_window_end": _("Give both ends of the window.")})
    return clean
