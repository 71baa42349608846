from rest_framework.decorators import api_view
from rest_framework.response import Response

from accounts.models import Membership


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
