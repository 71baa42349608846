from rest_framework.routers import SimpleRouter

from contacts.api import ContactViewSet, TagViewSet

router = SimpleRouter(trailing_slash="/?")
router.register("contacts", ContactViewSet, basename="contact")
router.register("tags", TagViewSet, basename="tag")
urlpatterns = router.urls
