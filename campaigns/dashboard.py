"""The admin's home: the operator's organizations at a glance (unfold's DASHBOARD_CALLBACK)."""

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.queries import organization_ids_for
from campaigns import live

TODAY_LABELS = [
    ("sent", _("Sent today")),
    ("delivered", _("Delivered today")),
    ("read", _("Read today")),
    ("replied", _("Replies today")),
    ("failed", _("Failed today")),
    ("opted_out", _("Opted out today")),
]


def visible_organization_ids(request) -> list[int] | None:
    """The organizations whose numbers the user sees (None: a superuser sees every one)."""
    return None if request.user.is_superuser else organization_ids_for(request)


def dashboard_callback(request, context):
    data = live.dashboard(organization_ids=visible_organization_ids(request))
    context.update(
        {
            "title": _("Dashboard"),
            "dashboard": data,
            "today_cards": [(key, label, data["today"][key]) for key, label in TODAY_LABELS],
            "dashboard_live_url": reverse("admin:campaigns_dashboard_live"),
            "poll_seconds": settings.ADMIN_POLL_SECONDS,
        }
    )
    return context


def dashboard_live(request):
    """The dashboard's JSON, polled by the home page."""
    return JsonResponse(live.dashboard(organization_ids=visible_organization_ids(request)))
