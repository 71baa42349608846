from accounts.api import ApiRouter
from campaigns.api import CampaignViewSet, ExecutionViewSet

router = ApiRouter()
router.register("flow-automations", CampaignViewSet, basename="flow-automation")
router.register("executions", ExecutionViewSet, basename="execution")
urlpatterns = router.urls
