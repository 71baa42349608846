"""Secrets at rest: Fernet tokens under the keys of `INTEGRATIONS_ENCRYPTION_KEYS`.

Partner connections (`integrations`) and Cloud API numbers (`instances`) keep their
secrets with it; the setting keeps its first name.

The first key encrypts; every key decrypts (`MultiFernet`), so a key is rotated by
putting the new one first, running `manage.py rotate_integration_secrets`, then dropping
the old one. Outside DEBUG there is no default key: encrypting or decrypting without one
raises `ImproperlyConfigured` naming the setting.
"""

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_cache: tuple[tuple[str, ...], MultiFernet] | None = None


def fernet() -> MultiFernet:
    global _cache
    keys = tuple(settings.INTEGRATIONS_ENCRYPTION_KEYS or ())
    if _cache is not None and _cache[0] == keys:
        return _cache[1]
    if not keys:
        raise ImproperlyConfigured(
            "INTEGRATIONS_ENCRYPTION_KEYS is not set: generate one with "
            '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.'
        )
    try:
        fernet = MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"INTEGRATIONS_ENCRYPTION_KEYS holds an invalid Fernet key: {exc}") from None
    _cache = (keys, fernet)
    return fernet


def encrypt_json(value: dict) -> str:
    return fernet().encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()


def decrypt_json(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with INTEGRATIONS_ENCRYPTION_KEYS "
            "(was the key that encrypted it removed?)."
        ) from None


def rotate(token: str) -> str:
    """The same secret under the current first key."""
    return fernet().rotate(token.encode()).decode() if token else token
