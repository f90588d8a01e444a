"""The linkage app's background task: one run of a job (ADR 0009: a thin wrapper, so the work
itself can be called directly)."""

from __future__ import annotations

from django_tasks import task

from accord.tasks.actions import tracking

from . import actions
from .models import JobState, LinkageJob


@task()
def run_job_task(job_id: str, progress_id: str) -> None:
    with tracking(progress_id, failure_message=actions.RUN_FAILED) as progress:
        try:
            actions.run_job(job_id, progress=progress)
        except BaseException:
            LinkageJob.objects.filter(pk=job_id).exclude(
                state__in=[JobState.DONE, JobState.REFUSED]
            ).update(state=JobState.FAILED, message=actions.RUN_FAILED)
            raise
