from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "accord.tasks"
    label = "tasks"
    verbose_name = "Background tasks"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (settles progress when a task ends)
