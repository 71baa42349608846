import math

from axes.helpers import get_cool_off
from django.http import HttpResponse
from django.utils.html import escape
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from accounts.models import Membership

MeSerializer = inline_serializer(
    "Me",
    {
        "username": serializers.CharField(),
        "organizations": inline_serializer(
            "MyOrganization",
            {
                "id": serializers.IntegerField(),
                "slug": serializers.CharField(),
                "name": serializers.CharField(),
                "role": serializers.ChoiceField(choices=Membership.Role.choices),
            },
            many=True,
        ),
    },
)


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """Who the caller is and where they belong: a quick check that a token works."""
    memberships = Membership.objects.filter(user=request.user).select_related("organization")
    return Response(
        {
            "username": request.user.username,
            "organizations": [
                {"id": m.organization_id, "slug": m.organization.slug, "name": m.organization.name, "role": m.role}
                for m in memberships
            ],
        }
    )


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out login: 429 with Retry-After (the cool-off)."""
    cool_off = get_cool_off(request)
    seconds = max(1, math.ceil(cool_off.total_seconds())) if cool_off else 900
    message = _("Too many failed logins for this username from your address. Try again in %(minutes)d minutes.") % {
        "minutes": math.ceil(seconds / 60)
    }
    response = HttpResponse(f"<!doctype html><title>429</title><p>{escape(message)}</p>", status=429)
    response["Retry-After"] = str(seconds)
    return response
