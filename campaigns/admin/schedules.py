"""Schedules in the admin: the inline on the campaign, the schedule page (exceptions, runs,
calendar) and the pause/resume/run now/backfill actions. Everything calls `services`."""

import calendar as month_calendar
from datetime import date, datetime, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.admin import StackedInline, TabularInline
from unfold.widgets import UnfoldAdminTextInputWidget

from accounts.admin import TenantAdmin
from campaigns import windows
from campaigns.admin.schedule_forms import ScheduleExceptionForm, ScheduleForm, describe_cron, describe_runs
from campaigns.schedules import occurrences, runs, services
from campaigns.schedules.models import Schedule, ScheduleException, ScheduleRun

CALENDAR_MONTHS = 3


class ScheduleInline(StackedInline):
    model = Schedule
    form = ScheduleForm
    extra = 0
    max_num = 1
    fk_name = "campaign"
    readonly_fields = ["upcoming", "next_scheduled_at", "last_executed_at", "execution_count", "is_paused", "pages"]
    fieldsets = [
        (None, {"fields": ["recurrence_type", "start_date", "start_time", "end_date", "max_occurrences", "is_active"]}),
        (_("Repeat"), {"fields": ["interval", "weekdays", "month_day", "cron_expression", "custom_dates"]}),
        (
            _("Window and calendar"),
            {
                "fields": [
                    "execution_window_start",
                    "execution_window_end",
                    "execution_timezone",
                    "blackout_dates_text",
                    "skip_weekends",
                    "skip_holidays",
                    "holiday_country",
                    "holiday_subdivision",
                    "include_optional_holidays",
                ]
            },
        ),
        (_("Overlap and catch-up"), {"fields": ["overlap_policy", "catchup_window"]}),
        (
            _("Status"),
            {"fields": ["upcoming", "next_scheduled_at", "last_executed_at", "execution_count", "is_paused", "pages"]},
        ),
    ]

    @admin.display(description=_("next runs"))
    def upcoming(self, schedule):
        if not schedule.pk:
            return "-"
        text = describe_runs(schedule) or _("none in the next two years")
        if schedule.recurrence_type == "cron":
            return f"{describe_cron(schedule.recurrence_config['expression'])}: {text}"
        return text

    @admin.display(description=_("details"))
    def pages(self, schedule):
        if not schedule.pk:
            return "-"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:campaigns_schedule_change", args=[schedule.pk]),
            _("exceptions, runs and actions"),
            reverse("admin:campaigns_schedule_calendar", args=[schedule.pk]),
            _("calendar"),
        )


class ScheduleExceptionInline(TabularInline):
    model = ScheduleException
    form = ScheduleExceptionForm
    extra = 0
    fields = [
        "exception_type",
        "start_date",
        "end_date",
        "rescheduled_to",
        "rate_limit_per_hour",
        "max_concurrent_executions",
        "min_interval_seconds",
        "reason",
    ]


class ScheduleRunInline(TabularInline):
    model = ScheduleRun
    extra = 0
    can_delete = False
    fields = ["scheduled_for", "kind", "status", "reason", "detail", "execution", "started_at"]
    readonly_fields = fields
    ordering = ["-scheduled_for"]
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("execution")


class BackfillForm(forms.Form):
    start = forms.DateTimeField(
        label=capfirst(_("from")), help_text=_("e.g. 2025-11-01 00:00"), widget=UnfoldAdminTextInputWidget
    )
    end = forms.DateTimeField(
        label=capfirst(_("until")), help_text=_("e.g. 2025-11-07 23:59"), widget=UnfoldAdminTextInputWidget
    )


@admin.register(Schedule)
class ScheduleAdmin(TenantAdmin):
    list_display = ["campaign", "recurrence_type", "next_scheduled_at", "is_paused", "is_active", "execution_count"]
    list_filter = ["recurrence_type", "is_paused", "is_active", "overlap_policy"]
    list_select_related = ["campaign"]
    search_fields = ["campaign__name"]
    inlines = [ScheduleExceptionInline, ScheduleRunInline]
    actions = ["pause", "resume", "trigger", "backfill"]
    fields = ["campaign", "recurrence_type", "next_scheduled_at", "is_paused", "paused_at", "pause_note", "calendar"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # a schedule is added on its campaign's page

    def get_urls(self):
        view = self.admin_site.admin_view(self.calendar_view)
        return [path("<int:pk>/calendar/", view, name="campaigns_schedule_calendar"), *super().get_urls()]

    @admin.display(description=_("calendar"))
    def calendar(self, schedule):
        url = reverse("admin:campaigns_schedule_calendar", args=[schedule.pk])
        return format_html('<a href="{}">{}</a>', url, _("next three months"))

    def calendar_view(self, request, pk):
        schedule = get_object_or_404(self.get_queryset(request), pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Calendar of %(name)s") % {"name": schedule.campaign},
            "schedule": schedule,
            "months": month_grid(schedule, windows.now()),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/campaigns/schedule_calendar.html", context)

    @admin.action(description=_("Pause the selected schedules"))
    def pause(self, request, queryset):
        for schedule in queryset:
            services.pause_schedule(schedule=schedule, note=request.POST.get("note", ""))
        self.message_user(request, _("%(n)d schedule(s) paused.") % {"n": len(queryset)})

    @admin.action(description=_("Resume the selected schedules"))
    def resume(self, request, queryset):
        for schedule in queryset:
            services.resume_schedule(schedule=schedule)
        self.message_user(request, _("%(n)d schedule(s) resumed.") % {"n": len(queryset)})

    @admin.action(description=_("Run the selected schedules now"))
    def trigger(self, request, queryset):
        for schedule in queryset:
            try:
                run = runs.trigger_schedule(schedule=schedule, user=request.user)
            except ValidationError as error:
                self.message_user(request, f"{schedule}: {'; '.join(error.messages)}", messages.ERROR)
                continue
            self.message_user(request, _("%(s)s started: execution #%(id)s.") % {"s": schedule, "id": run.execution_id})

    @admin.action(description=_("Backfill a past period"))
    def backfill(self, request, queryset):
        form = BackfillForm(request.POST if request.POST.get("confirmed") else None)
        if form.is_bound and form.is_valid():
            for schedule in queryset:
                try:
                    runs = services.backfill_schedule(
                        schedule=schedule, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
                    )
                except ValidationError as error:
                    self.message_user(request, f"{schedule}: {'; '.join(error.messages)}", messages.ERROR)
                    continue
                self.message_user(request, _("%(s)s: %(n)d occurrence(s) queued.") % {"s": schedule, "n": len(runs)})
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Backfill a past period"),
            "form": form,
            "queryset": queryset,
            "action": "backfill",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/campaigns/schedule_backfill.html", context)


def month_grid(schedule: Schedule, at: datetime) -> list[dict]:
    """The next three months as weeks of days, each day with what the calculator says of it."""
    zone = occurrences.zone_of(schedule.execution_timezone)
    today = at.astimezone(zone).date()
    first = today.replace(day=1)
    year, month = first.year, first.month
    months = []
    for _month in range(CALENDAR_MONTHS):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    end = months[-1].replace(day=month_calendar.monthrange(months[-1].year, months[-1].month)[1])
    until = occurrences.to_instant(end + timedelta(days=1), datetime.min.time(), zone)
    marks: dict[date, list[dict]] = {}
    for item in occurrences.events(schedule, schedule.exceptions.all(), after=at, until=until):
        day = item.at.astimezone(zone).date()
        local_time = formats.time_format(item.at.astimezone(zone), "H:i")
        if isinstance(item, occurrences.Occurrence):
            kind = "rescheduled" if item.rescheduled_from else ("modified" if item.modified else "scheduled")
            note = ", ".join(f"{k}={v}" for k, v in item.modified.items())
            if item.rescheduled_from:
                moved = formats.date_format(item.rescheduled_from.astimezone(zone), "d/m H:i")
                note = f"{_('moved from')} {moved} {note}".strip()
            marks.setdefault(day, []).append({"kind": kind, "time": local_time, "title": note})
        else:
            marks.setdefault(day, []).append(
                {"kind": "skipped", "time": local_time, "title": f"{item.reason}: {item.detail}"}
            )
    grid = []
    for first_day in months:
        weeks = month_calendar.Calendar(firstweekday=6).monthdatescalendar(first_day.year, first_day.month)
        grid.append(
            {
                "first": first_day,
                "weeks": [
                    [
                        {
                            "date": d,
                            "in_month": d.month == first_day.month,
                            "past": d < today,
                            "marks": marks.get(d, []),
                        }
                        for d in week
                    ]
                    for week in weeks
                ],
            }
        )
    return grid
