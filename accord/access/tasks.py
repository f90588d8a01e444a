"""The access app's background task: building an extract (ADR 0009: a thin wrapper, so the
work itself can be called directly)."""

from __future__ import annotations

from django_tasks import task

from accord.tasks.actions import tracking

from . import extracts


@task()
def build_extract_task(extract_id: str, progress_id: str) -> None:
    with tracking(progress_id, failure_message=extracts.BUILD_FAILED) as progress:
        try:
            extracts.build_extract(extract_id, progress=progress)
        except BaseException:
            extracts.Extract.objects.filter(pk=extract_id).exclude(
                state__in=[extracts.ExtractState.READY, extracts.ExtractState.REFUSED]
            ).update(state=extracts.ExtractState.FAILED, message=extracts.BUILD_FAILED)
            raise
