"""The campaign's WhatsApp numbers that can send now, and why none can.

Both the dispatcher and the operator controls (a number closing pauses what has no other
number) ask this.
"""

from django.utils.translation import gettext as _

from campaigns.models import Campaign
from instances import connection


def usable_instances(campaign: Campaign) -> list:
    """Numbers that can send now, healthiest first (the limiter then picks the soonest free)."""
    instances = [
        i
        for i in campaign.ordered_instances()
        if i.status == "active" and (i.connection_state == "open" or i.provider == "sandbox")
    ]
    return sorted(instances, key=lambda i: -i.health_score)


def no_number_detail(campaign: Campaign) -> str:
    """Which numbers the campaign has and why none can send, e.g. "Loja SP: close (Logged out (401))"."""
    parts = []
    for instance in campaign.ordered_instances():
        about = connection.describe(instance)
        reason = f" ({about['connection_reason']})" if about["connection_reason"] else ""
        parts.append(f"{about['name']}: {about['why']}{reason}")
    text = _("No connected WhatsApp number: %(numbers)s.") % {"numbers": "; ".join(parts) or "-"}
    return text[:300]
