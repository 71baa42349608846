from rest_framework.routers import SimpleRouter

from instances.api import WhatsAppInstanceViewSet

router = SimpleRouter(trailing_slash="/?")
router.register("instances", WhatsAppInstanceViewSet, basename="instance")
urlpatterns = router.urls
