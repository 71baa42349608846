from rest_framework.routers import SimpleRouter

from campaigns.api import CampaignViewSet, ExecutionViewSet


class OptionalSlashRouter(SimpleRouter):
    """`/flow-automations` and `/flow-automations/` both work (client code uses the former)."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("flow-automations", CampaignViewSet, basename="flow-automation")
router.register("executions", ExecutionViewSet, basename="execution")
urlpatterns = router.urls
