"""Writes to progress records: queue or start, advance, finish, fail.

Progress is a running report, not a domain action: it writes no audit event (the action that
asked for the work does). Writes are cheap: ``advance`` writes at most every
``MIN_WRITE_INTERVAL`` seconds per record, however often a job calls it, and every write is one
UPDATE of the fields it changes.

Call these outside ``transaction.atomic`` blocks: inside one, the page would see nothing until
the block commits.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.utils import timezone
from django_tasks import TaskResultStatus

from accord.organisations.models import Organisation

from .enums import ProgressState
from .exceptions import ProgressFinished
from .models import TaskProgress

# At most two writes a second per job: the page polls once a second.
MIN_WRITE_INTERVAL = 0.5

# The keyword argument that carries a progress record's id into a task started by enqueue().
PROGRESS_ARGUMENT = "progress_id"

# What people are told when a task stopped without saying why: nothing of the error itself.
STOPPED_UNEXPECTEDLY = "The work stopped unexpectedly. Try again, or contact support if it recurs."

_clock: Callable[[], float] = time.monotonic


def _new(
    *,
    state: ProgressState,
    kind: str,
    label: str,
    owner: Organisation | None,
    target: str,
    total: int | None,
    message: str,
) -> TaskProgress:
    now = timezone.now()
    progress = TaskProgress.objects.create(
        kind=kind,
        label=label,
        owner=owner,
        target=target,
        total=total,
        state=state,
        message=message,
        created_at=now,
        started_at=now if state == ProgressState.RUNNING else None,
        updated_at=now,
    )
    progress._written_at = _clock()
    return progress


def queue(
    *,
    kind: str,
    label: str,
    owner: Organisation | None = None,
    target: str = "",
    total: int | None = None,
    message: str = "",
) -> TaskProgress:
    """A record for work that waits in the queue; the first ``advance`` marks it running."""
    return _new(
        state=ProgressState.QUEUED,
        kind=kind,
        label=label,
        owner=owner,
        target=target,
        total=total,
        message=message,
    )


def start(
    *,
    kind: str,
    label: str,
    owner: Organisation | None = None,
    target: str = "",
    total: int | None = None,
    message: str = "",
) -> TaskProgress:
    """A record for work that starts now."""
    return _new(
        state=ProgressState.RUNNING,
        kind=kind,
        label=label,
        owner=owner,
        target=target,
        total=total,
        message=message,
    )


def _write(progress: TaskProgress, **fields: Any) -> None:
    fields["updated_at"] = timezone.now()
    TaskProgress.objects.filter(pk=progress.pk).update(**fields)
    for name, value in fields.items():
        setattr(progress, name, value)
    progress._written_at = _clock()


def advance(
    progress: TaskProgress,
    *,
    done: int | None = None,
    step: int = 0,
    total: int | None = None,
    message: str | None = None,
    force: bool = False,
) -> bool:
    """Move the work on: to ``done`` items, or by ``step`` more; optionally set the total (once
    known) and the message. The instance always holds the new figures; the database gets them
    when the last write was at least ``MIN_WRITE_INTERVAL`` ago, when the work starts running,
    or when ``force`` is set. Returns whether it wrote."""
    if progress.is_finished:
        raise ProgressFinished(f"{progress.label} has already {progress.state}.")
    if done is None:
        done = progress.done + step
    progress.done = max(0, done)
    if total is not None:
        progress.total = total
    if message is not None:
        progress.message = message
    starting = progress.state == ProgressState.QUEUED
    if not (starting or force or _clock() - progress._written_at >= MIN_WRITE_INTERVAL):
        return False
    fields: dict[str, Any] = {
        "done": progress.done,
        "total": progress.total,
        "message": progress.message,
    }
    if starting:
        fields["state"] = ProgressState.RUNNING
        fields["started_at"] = progress.started_at or timezone.now()
    _write(progress, **fields)
    return True


def finish(progress: TaskProgress, *, message: str = "") -> TaskProgress:
    """The work is done: the bar shows it complete. Always written at once."""
    if progress.is_finished:
        raise ProgressFinished(f"{progress.label} has already {progress.state}.")
    now = timezone.now()
    done = progress.total if progress.total is not None else progress.done
    _write(
        progress,
        state=ProgressState.DONE,
        done=max(done, progress.done),
        total=progress.total,
        message=message,
        started_at=progress.started_at or now,
        finished_at=now,
    )
    return progress


def fail(progress: TaskProgress, *, message: str) -> TaskProgress:
    """The work failed; ``message`` tells people what happened and what to do, in plain words
    (never an exception's text, which may quote data). Always written at once."""
    if progress.is_finished:
        raise ProgressFinished(f"{progress.label} has already {progress.state}.")
    now = timezone.now()
    _write(
        progress,
        state=ProgressState.FAILED,
        done=progress.done,
        total=progress.total,
        message=message,
        started_at=progress.started_at or now,
        finished_at=now,
    )
    return progress


@contextmanager
def tracking(
    progress: TaskProgress | uuid.UUID | str, *, failure_message: str = STOPPED_UNEXPECTEDLY
) -> Iterator[TaskProgress]:
    """Run a job's body against its progress record: the record is finished when the body
    returns (unless the body finished or failed it itself), and failed with
    ``failure_message`` when the body raises (the exception still propagates)."""
    if not isinstance(progress, TaskProgress):
        progress = TaskProgress.objects.get(pk=progress)
    try:
        yield progress
    except BaseException:
        progress.refresh_from_db(fields=["state"])
        if not progress.is_finished:
            fail(progress, message=failure_message)
        raise
    progress.refresh_from_db(fields=["state"])
    if not progress.is_finished:
        finish(progress, message=progress.message)


def enqueue(
    task: Any,
    *,
    kind: str,
    label: str,
    owner: Organisation | None = None,
    target: str = "",
    total: int | None = None,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
) -> TaskProgress:
    """Queue a Django task with a progress record for it. The task is called with
    ``progress_id=<the record's id as text>`` besides ``kwargs``, and should wrap its work in
    ``tracking(progress_id)``. Inside a transaction, the task is queued (database backend) only
    if the transaction commits, like everything else it wrote."""
    progress = queue(kind=kind, label=label, owner=owner, target=target, total=total)
    result = task.enqueue(*args, **{**(kwargs or {}), PROGRESS_ARGUMENT: str(progress.id)})
    _write(progress, task_id=str(result.id))
    if result.is_finished:  # the immediate backend ran it already
        settle(str(result.id), failed=result.status == TaskResultStatus.FAILED)
    progress.refresh_from_db()
    return progress


def settle(task_id: str, *, failed: bool) -> int:
    """A task ended: mark its progress finished if the task did not (failed, with a message that
    says nothing of the error, when the task raised). Returns how many records changed."""
    now = timezone.now()
    unfinished = TaskProgress.objects.filter(
        task_id=task_id, state__in=[ProgressState.QUEUED, ProgressState.RUNNING]
    )
    if failed:
        return unfinished.update(
            state=ProgressState.FAILED,
            message=STOPPED_UNEXPECTEDLY,
            finished_at=now,
            updated_at=now,
        )
    return unfinished.update(state=ProgressState.DONE, finished_at=now, updated_at=now)
