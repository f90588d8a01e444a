"""Background tasks in tests: the real database backend, run on demand.

Tests queue tasks exactly as the application does (into the database) and then run them with
``run_queued_tasks()``, in the test's own thread and transaction, with the backend's own worker:
nothing is mocked, and a test decides when the work happens. Browser tests, whose pages poll
while the work runs, use the ``task_worker`` fixture instead: the same worker on a thread beside
the live server, as ``accord serve`` runs it.

The small tasks below exist for the tests of the task machinery itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django_tasks import task

if TYPE_CHECKING:
    from accord.tasks.worker import BackgroundWorker

# Models load only once Django is set up: this module is imported by tests/conftest.py before.


def run_queued_tasks(*, max_tasks: int | None = None) -> int:
    """Run every task queued and ready now (and any they queue), then return how many ran."""
    from accord.tasks.worker import run_queued

    return run_queued(max_tasks=max_tasks)


def queued_task_count() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().count()


@pytest.fixture
def task_worker(transactional_db: None) -> Iterator[BackgroundWorker]:
    """The database worker on a thread, polling every tenth of a second, for the test's
    length (with ``live_server``, it runs what the pages queue)."""
    from accord.tasks.worker import start_background_worker

    worker = start_background_worker(interval=0.1, role="test")
    assert worker is not None, "tests queue tasks in the database"
    yield worker
    assert worker.stop(timeout=30), "the worker did not stop"


# Tasks for the tests of the machinery -----------------------------------------------------------


@task()
def count_rows(rows: int, *, progress_id: str) -> int:
    """Counts to ``rows``, reporting progress at every row (throttled by advance)."""
    from accord.tasks import actions

    with actions.tracking(progress_id) as progress:
        actions.advance(progress, done=0, total=rows, message="Counting rows")
        for n in range(1, rows + 1):
            actions.advance(progress, done=n)
        actions.finish(progress, message=f"Counted {rows} rows.")
    return rows


@task()
def break_down(*, progress_id: str) -> None:
    """Fails half-way, with an error whose text must never reach the page."""
    from accord.tasks import actions

    with actions.tracking(progress_id) as progress:
        actions.advance(progress, done=1, total=2)
        raise ValueError("secret row contents")


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def crash_without_tracking(*, progress_id: str) -> None:
    """Raises without touching its progress record: the record must still end."""
    raise RuntimeError("no tracking here")
