"""Campaign workflows: create, update, delete, start, and operator controls.

Every function takes keyword arguments, owns its transaction and queues Celery work
only on commit. `authoring` validates, creates, updates and deletes campaigns;
`starting` starts an execution and inserts its recipients; `controls` pauses, resumes,
cancels and re-queues, writes the campaign log and reacts to other apps' signals.
"""

from campaigns.services.authoring import (
    CAMPAIGN_FIELDS,
    activate_campaign,
    check_editable,
    create_campaign,
    delete_campaign,
    update_campaign,
    validate_campaign,
)
from campaigns.services.controls import (
    cancel_campaign,
    cancel_execution,
    conversation_completed,
    instance_connection_changed,
    log,
    pause_campaign,
    pause_execution,
    requeue_recipients,
    resume_campaign,
    resume_execution,
)
from campaigns.services.starting import (
    audience_size,
    begin_execution,
    insert_recipients,
    missing_variable_report,
    start_campaign,
)

__all__ = [
    "CAMPAIGN_FIELDS",
    "activate_campaign",
    "audience_size",
    "cancel_campaign",
    "cancel_execution",
    "check_editable",
    "conversation_completed",
    "create_campaign",
    "delete_campaign",
    "insert_recipients",
    "instance_connection_changed",
    "log",
    "missing_variable_report",
    "pause_campaign",
    "pause_execution",
    "requeue_recipients",
    "resume_campaign",
    "resume_execution",
    "start_campaign",
    "begin_execution",
    "update_campaign",
    "validate_campaign",
]
