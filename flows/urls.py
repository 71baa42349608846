from django.urls import re_path

from accounts.api import ApiRouter
from flows import api, api_controls

router = ApiRouter()
router.register("templates", api.FlowTemplateViewSet, basename="flow-template")
router.register("chatbots", api.FlowTemplateViewSet, basename="chatbot")
router.register("flow-templates", api.OldFlowTemplateViewSet, basename="old-flow-template")
router.register("flows", api.FlowViewSet, basename="flow")
router.register("subflows", api.SubflowViewSet, basename="subflow")
router.register("flow-messages", api.FlowMessageViewSet, basename="flow-message")
router.register("conversations", api.ConversationViewSet, basename="conversation")
router.register("received-files", api.ReceivedFileViewSet, basename="received-file")

urlpatterns = [
    *router.urls,
    re_path(r"^settings/?$", api_controls.SettingsView.as_view(), name="flow-settings"),
    re_path(r"^settings/(?P<key>[\w-]+)/?$", api_controls.SettingDetailView.as_view(), name="flow-setting"),
    re_path(r"^bot/status/?$", api_controls.BotStatusView.as_view(), name="bot-status"),
    re_path(r"^bot/enable/?$", api_controls.BotEnableView.as_view(), name="bot-enable"),
    re_path(r"^bot/disable/?$", api_controls.BotDisableView.as_view(), name="bot-disable"),
    re_path(r"^bot/test-mode/?$", api_controls.BotTestModeView.as_view(), name="bot-test-mode"),
    re_path(
        r"^analytics/conversations/?$", api_controls.ConversationAnalyticsView.as_view(), name="analytics-conversations"
    ),
    re_path(r"^analytics/files/?$", api_controls.FileAnalyticsView.as_view(), name="analytics-files"),
    re_path(r"^export/flows/(?P<template_id>[0-9]+)/?$", api_controls.ExportFlowsView.as_view(), name="export-flows"),
    re_path(r"^import/flows/?$", api_controls.ImportFlowsView.as_view(), name="import-flows"),
]
