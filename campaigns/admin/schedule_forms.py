"""Admin forms a person fills without writing JSON; `validation` checks them, `services` saves them."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import dates, formats
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from campaigns.schedules import occurrences, services, validation
from campaigns.schedules.models import Schedule, ScheduleException

WEEKDAY_CHOICES = [
    ("MON", _("Monday")),
    ("TUE", _("Tuesday")),
    ("WED", _("Wednesday")),
    ("THU", _("Thursday")),
    ("FRI", _("Friday")),
    ("SAT", _("Saturday")),
    ("SUN", _("Sunday")),
]
# Which form field shows an error about a path of recurrence_config.
FIELD_OF = {
    "recurrence_config.days": "weekdays",
    "recurrence_config.interval": "interval",
    "recurrence_config.day": "month_day",
    "recurrence_config.expression": "cron_expression",
    "recurrence_config.dates": "custom_dates",
    "blackout_dates": "blackout_dates_text",
}


def describe_cron(expression: str) -> str:
    """E.g. "Às 09:00, de segunda-feira a sexta-feira" ("" for what cron-descriptor cannot read)."""
    import calendar

    from cron_descriptor import ExpressionDescriptor, FormatException, Options, WrongArgumentException

    portuguese = (get_language() or "").startswith("pt")
    options = Options()
    options.locale_code = "pt_PT" if portuguese else "en_US"
    options.use_24hour_time_format = True
    try:
        text = ExpressionDescriptor(expression, options).get_description()
    except (FormatException, WrongArgumentException, ValueError, IndexError):
        return ""
    if portuguese:  # cron-descriptor names days and months in the process's locale (English)
        days = zip(calendar.day_name, dates.WEEKDAYS.values(), strict=True)
        names = [*days, *zip(calendar.month_name[1:], dates.MONTHS.values(), strict=True)]
        for english, translated in names:
            text = re.sub(rf"\b{english}\b", str(translated).lower(), text)
    return text


def describe_runs(schedule, count: int = 5) -> str:
    """The next runs as a person reads them, e.g. "Fri 21 Nov 2025 09:00, Mon 24 Nov 2025 09:00"."""
    from campaigns import windows

    found = occurrences.preview(
        schedule, schedule.exceptions.all() if schedule.pk else [], after=windows.now(), count=count, days_ahead=730
    )
    zone = occurrences.zone_of(schedule.execution_timezone)
    return ", ".join(formats.date_format(o.at.astimezone(zone), "D d M Y H:i") for o in found.occurrences)


class ScheduleForm(forms.ModelForm):
    weekdays = forms.MultipleChoiceField(
        label=_("days of the week"), choices=WEEKDAY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    interval = forms.IntegerField(
        label=_("every"),
        min_value=1,
        max_value=1000,
        initial=1,
        required=False,
        help_text=_("1 = every day/week/month"),
    )
    month_day = forms.IntegerField(
        label=_("day of the month"), min_value=1, max_value=31, required=False, help_text=_("31 = the month's last day")
    )
    cron_expression = forms.CharField(
        label=_("cron expression"), required=False, help_text=_("minute hour day month weekday, e.g. 0 9 * * MON-FRI")
    )
    custom_dates = forms.CharField(
        label=_("dates"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, e.g. 2025-11-25 09:00 (local time)"),
    )
    blackout_dates_text = forms.CharField(
        label=_("blackout dates"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One local date per line, e.g. 2025-12-25"),
    )

    class Meta:
        model = Schedule
        fields = [
            "recurrence_type",
            "start_date",
            "start_time",
            "end_date",
            "max_occurrences",
            "execution_window_start",
            "execution_window_end",
            "execution_timezone",
            "skip_weekends",
            "skip_holidays",
            "holiday_country",
            "holiday_subdivision",
            "include_optional_holidays",
            "overlap_policy",
            "catchup_window",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config = self.instance.recurrence_config or {}
        self.initial.setdefault("weekdays", config.get("days", []))
        self.initial.setdefault("interval", config.get("interval", 1))
        self.initial.setdefault("month_day", config.get("day"))
        self.initial.setdefault("cron_expression", config.get("expression", ""))
        self.initial.setdefault("custom_dates", "\n".join(config.get("dates", [])))
        self.initial.setdefault("blackout_dates_text", "\n".join(self.instance.blackout_dates or []))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        kind = cleaned.get("recurrence_type")
        config = {}
        if kind in ("daily", "weekly", "monthly"):
            config["interval"] = cleaned.get("interval") or 1
        if kind == "weekly":
            config["days"] = cleaned.get("weekdays") or []
        if kind == "monthly":
            config["day"] = cleaned.get("month_day")
        if kind == "cron":
            config["expression"] = cleaned.get("cron_expression") or ""
        if kind == "custom":
            config["dates"] = [
                line.strip() for line in (cleaned.get("custom_dates") or "").splitlines() if line.strip()
            ]
        blackout = [line.strip() for line in (cleaned.get("blackout_dates_text") or "").splitlines() if line.strip()]
        self.service_data = {
            **{name: cleaned.get(name) for name in self.Meta.fields},
            "recurrence_config": config,
            "blackout_dates": blackout,
            "catchup_window": int(cleaned["catchup_window"].total_seconds()) if cleaned.get("catchup_window") else 3600,
        }
        try:
            validation.schedule_fields(
                self.service_data, current=None, default_zone=cleaned.get("execution_timezone") or "America/Sao_Paulo"
            )
        except ValidationError as error:
            self._add_errors(error)
        if kind == "cron" and not self.errors:
            self.cron_description = describe_cron(config["expression"])
        return cleaned

    def _add_errors(self, error: ValidationError) -> None:
        for path, messages in error.message_dict.items():
            name = FIELD_OF.get(path.split("[")[0], path.split("[")[0])
            self.add_error(name if name in self.fields else None, f"{path}: {' '.join(messages)}")

    def save(self, commit=True):
        try:
            if self.instance.pk:
                schedule = services.update_schedule(schedule=self.instance, data=self.service_data)
            else:
                schedule = services.create_schedule(campaign=self.instance.campaign, data=self.service_data)
        except ValidationError as error:  # e.g. every date of a once schedule is a holiday
            raise ValidationError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())) from None
        self.instance = schedule
        return schedule

    def save_m2m(self):
        pass


class ScheduleExceptionForm(forms.ModelForm):
    """A `modify`'s settings as fields, not JSON."""

    rate_limit_per_hour = forms.IntegerField(label=_("messages per hour"), min_value=1, required=False)
    max_concurrent_executions = forms.IntegerField(label=_("max concurrent executions"), min_value=1, required=False)
    min_interval_seconds = forms.FloatField(label=_("minimum interval (s)"), min_value=0, required=False)

    class Meta:
        model = ScheduleException
        fields = ["exception_type", "start_date", "end_date", "rescheduled_to", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("rate_limit_per_hour", "max_concurrent_executions", "min_interval_seconds"):
            self.initial.setdefault(name, (self.instance.modified_config or {}).get(name))

    def clean(self):
        cleaned = super().clean()
        if self.errors or not cleaned.get("exception_type"):
            return cleaned
        data = {name: cleaned.get(name) for name in self.Meta.fields}
        modified = {
            name: cleaned[name]
            for name in ("rate_limit_per_hour", "max_concurrent_executions", "min_interval_seconds")
            if cleaned.get(name) is not None
        }
        if data["exception_type"] == "modify":
            data["modified_config"] = modified
        try:
            self.fields_data = validation.exception_fields(data, schedule=self.instance.schedule)
        except ValidationError as error:
            for path, messages in error.message_dict.items():
                name = path.split(".")[-1]
                self.add_error(name if name in self.fields else None, " ".join(messages))
        return cleaned

    def save(self, commit=True):
        for name, value in self.fields_data.items():
            setattr(self.instance, name, value)
        if commit:
            self.instance.save()
            services.refresh_next(schedule=self.instance.schedule)
        return self.instance
