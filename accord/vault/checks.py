"""System checks: production must have a vault master key and a key store kept apart from the
data folder and the blob store. (The settings already refuse placements that are explicitly
wrong; these checks also catch what is missing, for `accord manage check --deploy`.)"""

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
