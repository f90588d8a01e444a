from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "accord.linkage"
    label = "linkage"
    verbose_name = "Record linkage"
