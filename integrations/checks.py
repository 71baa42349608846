"""`manage.py check --deploy`: secrets at rest need their key before the first one is stored."""

from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def encryption_keys(app_configs, **kwargs):
    from core import crypto

    try:
        crypto.fernet()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="integrations.E001")]
    return []
