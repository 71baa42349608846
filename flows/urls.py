from django.urls import re_path

from core.api import ApiRouter
from flows.api import choices, controls, conversations, design

router = ApiRouter()
router.register("templates", design.FlowTemplateViewSet, basename="flow-template")
router.register("chatbots", design.ChatbotViewSet, basename="chatbot")
router.register("flow-templates", design.OldFlowTemplateViewSet, basename="old-flow-template")
router.register("flows", design.FlowViewSet, basename="flow")
router.register("subflows", design.SubflowViewSet, basename="subflow")
router.register("flow-messages", design.FlowMessageViewSet, basename="flow-message")
router.register("conversations", conversations.ConversationViewSet, basename="conversation")
router.register("received-files", conversations.ReceivedFileViewSet, basename="received-file")

urlpatterns = [
    re_path(
        r"^flow-messages/(?P<pk>[0-9]+)/choice/?$", choices.FlowMessageChoiceView.as_view(), name="flow-message-choice"
    ),
    *router.urls,
    re_path(r"^settings/?$", controls.SettingsView.as_view(), name="flow-settings"),
    re_path(r"^settings/(?P<key>[\w-]+)/?$", controls.SettingDetailView.as_view(), name="flow-setting"),
    re_path(r"^bot/status/?$", controls.BotStatusView.as_view(), name="bot-status"),
    re_path(r"^bot/enable/?$", controls.BotEnableView.as_view(), name="bot-enable"),
    re_path(r"^bot/disable/?$", controls.BotDisableView.as_view(), name="bot-disable"),
    re_path(r"^bot/test-mode/?$", controls.BotTestModeView.as_view(), name="bot-test-mode"),
    re_path(
        r"^analytics/conversations/?$", controls.ConversationAnalyticsView.as_view(), name="analytics-conversations"
    ),
    re_path(r"^analytics/files/?$", controls.FileAnalyticsView.as_view(), name="analytics-files"),
    re_path(r"^export/flows/(?P<template_id>[0-9]+)/?$", controls.ExportFlowsView.as_view(), name="export-flows"),
    re_path(r"^import/flows/?$", controls.ImportFlowsView.as_view(), name="import-flows"),
]
