from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "accord.outcomes"
    label = "outcomes"
    verbose_name = "Outcome reports"
