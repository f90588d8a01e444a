from django.apps import AppConfig


class OptOutsConfig(AppConfig):
    name = "accord.optouts"
    label = "optouts"
    verbose_name = "Opt-outs"
