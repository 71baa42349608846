from accounts.api import ApiRouter
from contacts.api import ContactViewSet, TagViewSet

router = ApiRouter()
router.register("contacts", ContactViewSet, basename="contact")
router.register("tags", TagViewSet, basename="tag")
urlpatterns = router.urls
