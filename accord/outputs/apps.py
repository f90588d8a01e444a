from django.apps import AppConfig


class OutputsConfig(AppConfig):
    name = "accord.outputs"
    label = "outputs"
    verbose_name = "Outputs"
