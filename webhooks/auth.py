"""Who is calling. GOSAC names its instance by the instance's webhook secret; Evolution
names it in the payload and proves itself with the secret or the instance's API key
(`credential_matches`, also what `webhooks.store.store_posted` decides with).

A GOSAC secret is looked up through its unique index, then compared again with
`hmac.compare_digest`, so the answer never depends on how much of a guess matched
beyond what the index lookup reveals (a random 32-character secret cannot be walked
byte by byte over the network). A secret of another provider's instance is unknown.
"""

import hmac

from instances.models import WhatsAppInstance


def credential_matches(given: str, stored: str) -> bool:
    """Constant-time equality of a credential with the stored one; an empty one never matches."""
    return bool(given) and bool(stored) and hmac.compare_digest(given.encode(), stored.encode())


def instance_for_secret(secret: str, *, provider: str) -> WhatsAppInstance | None:
    if not secret or len(secret) > 64:
        return None
    instance = (
        WhatsAppInstance.objects.select_related("organization").filter(webhook_secret=secret, provider=provider).first()
    )
    if instance is None or not credential_matches(secret, instance.webhook_secret):
        return None
    return instance
