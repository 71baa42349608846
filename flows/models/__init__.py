"""Chatbots: their flow design, the conversations that run it, received files and settings.

`design` holds what an operator builds (FlowTemplate > Flow > Subflow > FlowMessage);
`conversations` what the engine runs with it (Conversation, its MessageHistory and
ScheduledSends), with the status transitions written on each model; `files` the files a
contact sends; `settings` an organization's bot settings.
"""

from flows.models.activity import FlowActivity
from flows.models.choices import ChoiceOption, ChoiceStep
from flows.models.conversations import Conversation, MessageHistory, ScheduledSend
from flows.models.design import MAX_VARIATIONS, Flow, FlowMessage, FlowTemplate, Subflow
from flows.models.files import ReceivedFile, received_file_path
from flows.models.handoff import Handoff
from flows.models.settings import SystemSetting
from flows.models.timers import ReplyTimer, WaitTimeout

__all__ = [
    "MAX_VARIATIONS",
    "ChoiceOption",
    "ChoiceStep",
    "Conversation",
    "Flow",
    "FlowActivity",
    "FlowMessage",
    "FlowTemplate",
    "Handoff",
    "MessageHistory",
    "ReceivedFile",
    "ReplyTimer",
    "ScheduledSend",
    "Subflow",
    "SystemSetting",
    "WaitTimeout",
    "received_file_path",
]
