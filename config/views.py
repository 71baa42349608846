"""The few pages outside the admin and the API: `/` and the favicon."""

from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import cache_control

# The product's mark: a speech bubble in WhatsApp green (served inline, no static file needed).
FAVICON_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<circle cx="32" cy="30" r="26" fill="#16a34a"/>
<path d="M14 58l6-14 10 6z" fill="#16a34a"/>
<path d="M20 24h24M20 33h16" stroke="#fff" stroke-width="5" stroke-linecap="round"/>
</svg>"""


def home(request):
    """`/` leads to the back-office (its login page when signed out)."""
    return redirect("admin:index")


@cache_control(max_age=86400, public=True)
def favicon(request):
    return HttpResponse(FAVICON_SVG, content_type="image/svg+xml")
