from django.db import models


class ProgressState(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "In progress"
    DONE = "done", "Finished"
    FAILED = "failed", "Failed"


FINISHED_STATES = frozenset({ProgressState.DONE, ProgressState.FAILED})
