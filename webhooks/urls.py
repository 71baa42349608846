from django.urls import path

from webhooks.evolution.views import urlpatterns as evolution_urlpatterns
from webhooks.gosac.views import gosac_webhook

urlpatterns = [
    path("gosac/<str:secret>/", gosac_webhook, name="gosac-webhook"),
    *evolution_urlpatterns,
]
