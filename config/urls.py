from django.contrib import admin
from django.urls import include, path

from config.health import health
from config.metrics import metrics_view
from config.views import favicon, home

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("contacts.urls")),
    path("", include("instances.urls")),
    path("", include("flows.urls")),
    path("", include("campaigns.urls")),
    path("", include("integrations.urls")),
]

urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon),
    path("favicon.svg", favicon, name="favicon"),
    path("health", health, name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/webhooks/", include("webhooks.urls")),
]

admin.site.site_header = "WhatsFlow"
admin.site.site_title = "WhatsFlow"
