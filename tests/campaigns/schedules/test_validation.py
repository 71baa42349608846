"""Reading schedule bodies: every bad field at once; a custom schedule's start from its dates."""

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError

from campaigns.schedules.validation import schedule_fields

DATES = ["2025-11-25T09:00:00Z", "2025-11-26T14:00:00Z", "2025-12-01T10:00:00Z"]


def test_a_custom_schedule_without_start_date_starts_on_its_earliest_date():
    body = {"recurrence_type": "custom", "recurrence_config": {"dates": list(reversed(DATES))}}

    fields = schedule_fields(body, current=None, default_zone="America/Sao_Paulo")

    assert (fields["start_date"], fields["start_time"]) == (date(2025, 11, 25), time(0, 0))
    assert fields["recurrence_config"]["dates"] == DATES


def test_a_custom_schedule_without_dates_or_start_date_names_the_dates():
    with pytest.raises(ValidationError) as error:
        schedule_fields({"recurrence_type": "custom", "recurrence_config": {}}, current=None, default_zone="UTC")

    assert set(error.value.message_dict) == {"recurrence_config.dates"}


def test_every_bad_field_is_reported_at_once():
    body = {
        "recurrence_type": "cron",
        "start_date": "2025-11-20",
        "recurrence_config": {"expression": "0 25 * * *"},
        "execution_timezone": "America/Sao_Pablo",
        "skip_weekends": "yes",
        "blackout_dates": ["2025-13-01"],
    }

    with pytest.raises(ValidationError) as error:
        schedule_fields(body, current=None, default_zone="America/Sao_Paulo")

    assert set(error.value.message_dict) == {
        "recurrence_config.expression",
        "execution_timezone",
        "skip_weekends",
        "blackout_dates[0]",
    }
