"""Campaigns, their executions, recipients and log.

Each state machine is written down here once and enforced by one function
(`Campaign.transition`, `Execution.transition`, `campaigns.transitions.advance_recipients`): every caller
(dispatcher, webhooks, admin, API) changes status through it, with a conditional
UPDATE whose row count says whether it happened.
"""

from campaigns.models.campaign import Campaign, CampaignInstance
from campaigns.models.execution import Execution
from campaigns.models.inbound import InboundEvent
from campaigns.models.log import CampaignLog, SendSlot
from campaigns.models.recipient import Recipient
from campaigns.schedules.models import Schedule, ScheduleException, ScheduleRun

__all__ = [
    "Campaign",
    "CampaignInstance",
    "CampaignLog",
    "Execution",
    "InboundEvent",
    "Recipient",
    "Schedule",
    "ScheduleException",
    "ScheduleRun",
    "SendSlot",
]
