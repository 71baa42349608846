"""The system's periodic jobs, in one table.

`manage.py setup_periodic_tasks` (run by `make run` and at every deploy) installs each
entry into django-celery-beat's tables by its name, idempotently; beat only ticks, the
database decides (docs/operations.md "Beat jobs"). Each entry has `task` and either
`every_seconds` or `crontab` ("m h dom mon dow", in TIME_ZONE), optionally `kwargs`.
The knobs each job reads are in `config/settings/apps.py`, in its app's section.
"""

SYSTEM_PERIODIC_TASKS: dict[str, dict] = {
    # instances: the daily counters kept in Redis are written to the rows.
    "instances: flush daily counters": {"task": "instances.tasks.flush_instance_counters", "every_seconds": 10},
    # A number whose state nothing reported on for INSTANCES_CONNECTION_STALE_SECONDS is asked again.
    "instances: refresh stale connection states": {
        "task": "instances.tasks.refresh_stale_connections",
        "every_seconds": 300,
    },
    # Midnight differs per organization's time zone: reset whoever's local date moved on.
    "instances: reset daily counters": {"task": "instances.tasks.reset_daily_counters", "crontab": "*/15 * * * *"},
    # campaigns: live executions without a live dispatcher, expired leases, windows that opened.
    "campaigns: sweep": {"task": "campaigns.tasks.sweep", "every_seconds": 10},
    # campaigns: `unknown` recipients checked with their provider (sent, or sent again).
    "campaigns: reconcile unknown sends": {"task": "campaigns.tasks.reconcile_unknown", "every_seconds": 60},
    "campaigns: refresh totals": {"task": "campaigns.tasks.refresh_campaign_totals", "every_seconds": 60},
    "campaigns: run due schedules": {"task": "campaigns.tasks.run_due_schedules", "every_seconds": 30},
    "flows: send due scheduled messages": {"task": "flows.tasks.send_due_scheduled", "every_seconds": 15},
    "flows: process stale inbound messages": {"task": "flows.tasks.process_stale_inbound", "every_seconds": 60},
    # No-reply timers are minutes to days long: a 30 s sweep is precise enough.
    "flows: fire due no-reply timers": {"task": "flows.tasks.fire_due_timers", "every_seconds": 30},
    "webhooks: retry unapplied events": {
        "task": "webhooks.tasks.retry_unapplied_webhook_events",
        "every_seconds": 60,
    },
    "instances: sync message templates": {"task": "instances.tasks.sync_message_templates", "every_seconds": 3600},
    "webhooks: retry unapplied Cloud API events": {
        "task": "webhooks.cloud.tasks.retry_unapplied_cloud_events",
        "every_seconds": 60,
    },
    "integrations: deliver webhooks": {"task": "integrations.tasks.drain_webhooks", "every_seconds": 10},
    "integrations: run due actions": {"task": "integrations.tasks.run_due_actions", "every_seconds": 30},
    # Rows older than RETENTION_DAYS, deleted in batches at night.
    "ops: retention": {"task": "config.tasks.apply_retention", "crontab": "30 3 * * *"},
}
