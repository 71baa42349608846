from django.urls import re_path

from campaigns.api import schedules as schedules_api
from campaigns.api.campaigns import CampaignViewSet
from campaigns.api.events import EventView
from campaigns.api.executions import ExecutionViewSet
from core.api import ApiRouter

router = ApiRouter()
router.register("flow-automations", CampaignViewSet, basename="flow-automation")
router.register("executions", ExecutionViewSet, basename="execution")
urlpatterns = [
    *schedules_api.urlpatterns(),
    *router.urls,
    re_path(r"^events/?$", EventView.as_view(), name="events"),
]
