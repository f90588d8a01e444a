"""How far a piece of long work has got: one row per job, written by the job, read by the page
that polls it and by the command line's progress bar."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accord.organisations.models import Organisation

from .enums import FINISHED_STATES, ProgressState


class TaskProgress(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # What sort of work, for code and logs ("submission.validate"); ``label`` is for people.
    kind = models.CharField(max_length=100)
    label = models.CharField(max_length=200)
    # Whose work it is: only this organisation's members see it on the site. None for work
    # nobody follows on a page (the command line still can).
    owner = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # What the work is about, as text like audit targets ("submission:42"): no foreign key, so
    # progress never holds up the record it describes.
    target = models.CharField(max_length=200, blank=True)
    # The queued task doing the work, when there is one: lets a task that dies without saying
    # so be marked failed.
    task_id = models.CharField(max_length=64, blank=True, db_index=True)
    state = models.CharField(
        max_length=16, choices=ProgressState.choices, default=ProgressState.QUEUED
    )
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True)  # None while unknown
    # Plain words for people about the current step, or why the work failed. Never data.
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    # When this instance last wrote to the database (time.monotonic); advance() throttles on it.
    _written_at: float = 0.0

    class Meta:
        verbose_name = "task progress"
        verbose_name_plural = "task progress"
        indexes = [models.Index(fields=["owner", "state"], name="tasks_progress_owner_state")]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_state_display().lower()})"

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def percent(self) -> int | None:
        """Whole percent done (0-100), or None while the total is unknown."""
        if self.state == ProgressState.DONE:
            return 100
        if not self.total:
            return None
        return min(100, self.done * 100 // self.total)

    @property
    def shown_step(self) -> str:
        """What a progress indicator shows, coarsely (the state, each tenth of the way, the
        message): pages redraw, and screen readers announce, only when this changes."""
        percent = self.percent
        tenth = "" if percent is None else str(percent // 10 * 10)
        return f"{self.state}:{tenth}:{self.message}"
