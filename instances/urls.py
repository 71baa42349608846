from core.api import ApiRouter
from instances.api import WhatsAppInstanceViewSet

router = ApiRouter()
router.register("instances", WhatsAppInstanceViewSet, basename="instance")
urlpatterns = router.urls
