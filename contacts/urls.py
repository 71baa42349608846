from contacts.api import ContactViewSet, TagViewSet
from core.api import ApiRouter

router = ApiRouter()
router.register("contacts", ContactViewSet, basename="contact")
router.register("tags", TagViewSet, basename="tag")
urlpatterns = router.urls
