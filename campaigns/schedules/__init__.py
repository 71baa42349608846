"""Schedules: when a campaign starts by itself.

`models` (Schedule, ScheduleException, ScheduleRun), `occurrences` (the one calculator:
pure functions the preview, the calendar and the ticker all ask), `calendars`
(weekends, blackout dates and holidays), `validation` (request shapes, errors naming
the field), `services` (create/update/delete, exceptions, pause/resume, trigger,
backfill), `ticker` (starts due occurrences exactly once), `triggers` (the campaign's
`trigger_type` "scheduled"/"cron"), `api` and `admin`.
"""
