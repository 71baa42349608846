"""A campaign's `trigger_type` "scheduled" and "cron" are schedules.

`scheduled` with `trigger_config.scheduled_at` (an ISO time: "start later") is a `once`
schedule; `cron` with `trigger_config.expression` a `cron` schedule, both in the
campaign's time zone. Saving the campaign creates or updates its schedule. `webhook`
with `trigger_config.event` starts on an inbound business event (`campaigns.services.events`).
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from campaigns import windows
from campaigns.schedules import services, validation
from campaigns.schedules.models import Schedule

# The name of an inbound business event (`POST /api/v1/events`), e.g. payment.overdue.
EVENT_NAME = re.compile(r"[\w.:-]{1,100}")


def check_trigger(trigger_type: str, trigger_config, time_zone: str) -> dict:
    """Errors naming the field, as validate_campaign collects them."""
    if trigger_config is not None and not isinstance(trigger_config, dict) and trigger_type in ("scheduled", "cron"):
        return {"trigger_config": _("Must be an object.")}
    # Omitted: the error names what is missing inside it (trigger_config.scheduled_at).
    config = trigger_config if isinstance(trigger_config, dict) else {}
    try:
        if trigger_type in ("scheduled", "cron"):  # its schedule runs in that zone
            validation.parse_zone(time_zone, "time_zone")
        if trigger_type == "webhook":
            event = (config or {}).get("event")
            if not isinstance(event, str) or not EVENT_NAME.fullmatch(event):
                return {
                    "trigger_config": _(
                        'A webhook trigger needs {"event": "<name>"}, e.g. {"event": "payment.overdue"} '
                        "(letters, digits, . _ : -; up to 100)."
                    )
                }
        if trigger_type == "scheduled":
            if config.get("scheduled_at") in (None, ""):
                return {"trigger_config.scheduled_at": _("Give the time to start, e.g. 2025-11-25T09:00:00-03:00.")}
            validation.parse_datetime(config["scheduled_at"], "trigger_config.scheduled_at", time_zone)
        if trigger_type == "cron":
            validation.check_cron(config.get("expression"), "trigger_config.expression")
    except ValidationError as error:
        return error.message_dict
    return {}


def schedule_body(campaign) -> dict | None:
    config = campaign.trigger_config or {}
    if campaign.trigger_type == "scheduled":
        at = validation.parse_datetime(config["scheduled_at"], "trigger_config.scheduled_at", campaign.time_zone)
        if at <= windows.now():
            raise ValidationError({"trigger_config.scheduled_at": _("Must be in the future.")})
        return {
            "recurrence_type": "once",
            "start_date": at.isoformat(),
            "start_time": None,
            "end_date": None,
            "recurrence_config": {},
            "execution_timezone": campaign.time_zone,
            "is_active": True,
        }
    if campaign.trigger_type == "cron":
        today = windows.now().astimezone(validation.ZoneInfo(campaign.time_zone)).date().isoformat()
        return {
            "recurrence_type": "cron",
            "start_date": today,
            "start_time": "00:00:00",
            "end_date": None,
            "recurrence_config": {"expression": config["expression"]},
            "execution_timezone": campaign.time_zone,
            "is_active": True,
        }
    return None


def planned_schedule(campaign) -> Schedule | None:
    """The schedule the trigger would make or update, unsaved (None for manual and webhook)."""
    body = schedule_body(campaign)
    if body is None:
        return None
    existing = Schedule.objects.filter(campaign_id=campaign.pk).first() if campaign.pk else None
    fields = validation.schedule_fields(body, current=existing, default_zone=campaign.time_zone)
    schedule = existing or Schedule(organization_id=campaign.organization_id, campaign_id=campaign.pk)
    for name, value in fields.items():
        setattr(schedule, name, value)
    return schedule


def check_schedule(*, campaign) -> None:
    """What `apply_trigger` would refuse, asked before the campaign is saved (the admin form)."""
    schedule = planned_schedule(campaign)
    if schedule is not None:
        services.check_dates(schedule)


SCHEDULE_TRIGGERS = ("scheduled", "cron")


def apply_trigger(*, campaign, previous_type: str | None = None) -> Schedule | None:
    """Create or update the campaign's schedule from its trigger.

    Called when the trigger changes, inside the campaign's save: a refusal rolls it back.
    Leaving `scheduled`/`cron` for `manual`/`webhook` turns off the schedule the trigger kept
    in step (it would go on starting the campaign); a schedule made through the schedule
    API while the trigger was manual is left alone.
    """
    body = schedule_body(campaign)
    if body is None:
        if previous_type in SCHEDULE_TRIGGERS:
            Schedule.objects.filter(campaign=campaign).update(is_active=False)
        return None
    existing = Schedule.objects.filter(campaign=campaign).first()
    if existing is None:
        return services.create_schedule(campaign=campaign, data=body)
    return services.update_schedule(schedule=existing, data=body)
