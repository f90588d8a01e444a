"""The outputs app's background task: making an output (ADR 0009: a thin wrapper, so the work
itself can be called directly)."""

from __future__ import annotations

from django_tasks import task

from accord.tasks.actions import tracking

from . import actions
from .models import Output, OutputState


@task()
def make_output_task(output_id: str, progress_id: str) -> None:
    with tracking(progress_id, failure_message=actions.MAKE_FAILED) as progress:
        try:
            actions.make_output(output_id, progress=progress)
        except BaseException:
            Output.objects.filter(pk=output_id).exclude(
                state__in=[OutputState.READY, OutputState.REFUSED]
            ).update(state=OutputState.FAILED, message=actions.MAKE_FAILED)
            raise
