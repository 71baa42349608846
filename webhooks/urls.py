from django.urls import path
from rest_framework.routers import SimpleRouter

from webhooks.evolution import urlpatterns as evolution_urlpatterns
from webhooks.views import gosac_webhook

router = SimpleRouter(trailing_slash="/?")
urlpatterns = [
    path("gosac/<str:secret>/", gosac_webhook, name="gosac-webhook"),
    *evolution_urlpatterns,
    *router.urls,
]
