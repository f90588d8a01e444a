from django.apps import AppConfig


class StandardsConfig(AppConfig):
    name = "accord.standards"
    label = "standards"
    verbose_name = "Data standards"
