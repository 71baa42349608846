from django.urls import path

from webhooks.cloud.views import cloud_webhook
from webhooks.evolution.views import urlpatterns as evolution_urlpatterns
from webhooks.gosac.views import gosac_webhook

urlpatterns = [
    path("cloud/<str:secret>/", cloud_webhook, name="cloud-webhook"),
    path("gosac/<str:secret>/", gosac_webhook, name="gosac-webhook"),
    *evolution_urlpatterns,
]
