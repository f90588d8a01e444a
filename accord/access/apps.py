from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "accord.access"
    label = "access"
