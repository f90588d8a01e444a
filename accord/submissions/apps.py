from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "accord.submissions"
    label = "submissions"
    verbose_name = "Submissions and collections"
