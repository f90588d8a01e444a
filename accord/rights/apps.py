from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "accord.rights"
    label = "rights"
    verbose_name = "Data subjects' rights"
