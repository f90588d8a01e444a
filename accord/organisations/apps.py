from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "accord.organisations"
    label = "organisations"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the sign-in audit receivers)
