"""The rights app's background task (ADR 0009): after a return replaces an earlier one, tell
the recipients of extracts it made out of date."""

from __future__ import annotations

from django_tasks import task

from accord.tasks.actions import tracking

from . import replaced

KIND = "rights.replacement"
FAILED = (
    "Checking which extracts the new return made out of date stopped unexpectedly; the return "
    "itself was accepted."
)


@task()
def tell_recipients_of_replacement_task(submission_id: str, progress_id: str) -> None:
    with tracking(progress_id, failure_message=FAILED):
        replaced.tell_recipients_of_replacement(submission_id)
