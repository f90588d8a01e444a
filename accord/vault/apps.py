from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "accord.vault"
    label = "vault"
    verbose_name = "Vault"

    def ready(self) -> None:
        from . import checks  # noqa: F401 (registers the system checks)
