from django.urls import re_path

from accounts.api import ApiRouter
from campaigns.api import CampaignViewSet, ExecutionViewSet
from campaigns.api_events import EventView
from campaigns.schedules import api as schedules_api

router = ApiRouter()
router.register("flow-automations", CampaignViewSet, basename="flow-automation")
router.register("executions", ExecutionViewSet, basename="execution")
urlpatterns = [
    *schedules_api.urlpatterns(),
    *router.urls,
    re_path(r"^events/?$", EventView.as_view(), name="events"),
]
