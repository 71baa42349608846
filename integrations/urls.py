from core.api import ApiRouter
from integrations import api

router = ApiRouter()
router.register("integrations", api.IntegrationViewSet, basename="integration")
router.register("webhook-subscriptions", api.WebhookSubscriptionViewSet, basename="webhook-subscription")
router.register("webhook-deliveries", api.WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("action-runs", api.ActionRunViewSet, basename="action-run")
urlpatterns = router.urls
