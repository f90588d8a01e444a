"""The submissions app's background tasks (ADR 0009): thin wrappers, so the work itself
(``processing``) can be called directly where a caller needs it now."""

from __future__ import annotations

from django_tasks import task

from accord.tasks.actions import advance, tracking

from . import processing

CHECK_FAILED = (
    "The check stopped unexpectedly. Your file is stored safely; send it again, and if this "
    "happens again, contact support."
)
COMPILE_FAILED = (
    "Compiling the collection stopped unexpectedly; it is compiled again when the next return "
    "is accepted."
)


@task()
def check_submission_task(submission_id: str, progress_id: str) -> None:
    with tracking(progress_id, failure_message=CHECK_FAILED) as progress:
        processing.check_submission(submission_id, progress=progress)


@task()
def compile_collection_task(collection_id: str, progress_id: str) -> None:
    with tracking(progress_id, failure_message=COMPILE_FAILED) as progress:
        # Running from here: a return accepted now queues a compilation of its own.
        advance(progress, done=0, total=1, message="Compiling the accepted returns", force=True)
        processing.compile_collection(collection_id)
