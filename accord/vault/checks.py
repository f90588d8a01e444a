"""System checks: production must have a usable vault master key and a key store kept apart
from the data folder and the blob store. (The settings already refuse to start without a master
key or key store, or with either in the wrong place; this check also reads the key, so a key
file that is unreadable or not a key is caught by `accord manage check --deploy`.)"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from .exceptions import VaultConfigurationError


@checks.register(checks.Tags.security, deploy=True)
def vault_keys_configured(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.DEMO_MODE:
        return []
    from . import keys

    errors: list[checks.CheckMessage] = []
    try:
        keys.master_key()
        keys.keystore_dir()
    except VaultConfigurationError as exc:
        errors.append(checks.Error(str(exc), id="accord.vault.E001"))
    return errors
