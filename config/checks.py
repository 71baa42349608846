"""`manage.py check`: the settings a process cannot run without, found before the first request.

Outside DEBUG there is no development `SECRET_KEY`; without one Django fails only where the
key is first used (a login, a signed cookie), long after the deploy looked healthy.
"""

from django.conf import settings
from django.core.checks import Error, register


@register()
def secret_key(app_configs, **kwargs):
    try:
        key = settings.SECRET_KEY
    except Exception:  # noqa: BLE001 - Django raises ImproperlyConfigured for an empty key
        key = ""
    if not key:
        return [
            Error(
                "SECRET_KEY is not set. Outside DEBUG it must come from the environment.",
                hint='Generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"',
                id="config.E001",
            )
        ]
    return []
