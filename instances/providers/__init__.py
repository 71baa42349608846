"""Provider clients, looked up by `WhatsAppInstance.provider` (healthchecks' TRANSPORTS)."""

from functools import cache

from django.utils.module_loading import import_string

from instances.providers.base import Provider

PROVIDERS = {
    "cloud": "instances.providers.cloud.Cloud",
    "evolution": "instances.providers.evolution.Evolution",
    "gosac": "instances.providers.gosac.Gosac",
    "sandbox": "instances.providers.sandbox.Sandbox",
}


@cache
def get_provider(kind: str) -> Provider:
    try:
        return import_string(PROVIDERS[kind])()
    except KeyError:
        raise LookupError(f"Unknown provider {kind!r}") from None
