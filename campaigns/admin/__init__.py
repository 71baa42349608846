"""The campaigns' back-office. Each module registers its own ModelAdmins; Django's admin
autodiscovery imports this package, so importing them here is what registers them."""

from campaigns.admin import campaigns, events, executions, schedules  # noqa: F401 (registers the ModelAdmins)
