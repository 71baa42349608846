"""The bot's controls in `GET /health`, as the old chatbot told them (`config.health.PARTS`).

Those are the environment's defaults, or, with a bearer token of a user of exactly one
organization, that organization's settings (`organization` says which).
"""

from accounts.auth import BearerTokenAuthentication
from accounts.models import Membership
from flows.controls import bot_summary


def bot_controls(request) -> dict:
    organization_id = None
    try:
        authenticated = BearerTokenAuthentication().authenticate(request)
    except Exception:  # noqa: BLE001 - a bad token on /health just gets the defaults
        authenticated = None
    if authenticated is not None:
        organizations = list(
            Membership.objects.filter(user=authenticated[0], organization__is_active=True).values_list(
                "organization_id", flat=True
            )[:2]
        )
        if len(organizations) == 1:
            organization_id = organizations[0]
    return bot_summary(organization_id=organization_id)
