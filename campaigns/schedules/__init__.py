"""Schedules: when a campaign starts by itself.

`models` (Schedule, ScheduleException, ScheduleRun), `occurrences` (the one calculator:
pure functions the preview, the calendar and the ticker all ask), `calendars`
(weekends, blackout dates and holidays), `validation` (request shapes, errors naming
the field), `services` (create/update/delete, exceptions, pause/resume, backfill),
`triggers` (the campaign's `trigger_type` "scheduled"/"cron"), `runs` (each occurrence's
unique run row: taken, started, skipped, missed; "run now"), `ticker` (starts due
occurrences exactly once). Their API is `campaigns.api.schedules`, their admin
`campaigns.admin.schedules`.
"""
