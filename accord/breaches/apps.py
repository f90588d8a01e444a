from django.apps import AppConfig


class BreachesConfig(AppConfig):
    name = "accord.breaches"
    label = "breaches"
    verbose_name = "Breaches"
