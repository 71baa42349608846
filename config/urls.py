from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from config.errors import not_found
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
    # The OpenAPI 3 contract (docs/api.md): YAML (or JSON with ?format=json / Accept), and JSON.
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/schema.json", SpectacularJSONAPIView.as_view(), name="schema-json"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

admin.site.site_header = "WhatsFlow"
admin.site.site_title = "WhatsFlow"

# A URL under /api/ that matches no route answers JSON like the API's own 404s (the contract).
handler404 = not_found
