"""Queued tasks run: by the tests' helper, by the worker thread `accord serve` starts, and by
`accord worker`; a task's end always ends its progress record."""

from __future__ import annotations

import io
import time

import pytest
from django.test import override_settings
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accord.cli.common import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE
from accord.cli.main import main
from accord.tasks import actions, queries
from accord.tasks.cli import exit_status, follow
from accord.tasks.enums import ProgressState
from accord.tasks.worker import start_background_worker
from tests.factories import OrganisationFactory
from tests.tasks import add, break_down, count_rows, queued_task_count, run_queued_tasks

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.mark.django_db
def test_tests_queue_tasks_in_the_database() -> None:
    result = add.enqueue(2, 3)
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.READY
    assert queued_task_count() == 1


@pytest.mark.django_db
def test_a_queued_task_runs_with_the_test_helper() -> None:
    result = add.enqueue(2, 3)
    assert run_queued_tasks() == 1
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5
    assert queued_task_count() == 0
    assert run_queued_tasks() == 0


@pytest.mark.django_db
def test_enqueue_with_progress_hands_the_task_its_record() -> None:
    council = OrganisationFactory()
    progress = actions.enqueue(
        count_rows,
        kind="test.count",
        label="Counting rows",
        owner=council,
        target="thing:1",
        args=[250],
    )
    assert progress.state == ProgressState.QUEUED
    assert progress.task_id
    assert run_queued_tasks() == 1
    found = queries.progress_for(progress.id)
    assert found is not None
    assert found.state == ProgressState.DONE
    assert (found.done, found.total, found.percent) == (250, 250, 100)
    assert found.message == "Counted 250 rows."


@pytest.mark.django_db
def test_a_failing_task_fails_its_progress_without_the_error_text() -> None:
    progress = actions.enqueue(break_down, kind="test.break", label="Breaking down")
    assert run_queued_tasks() == 1
    found = queries.progress_for(progress.id)
    assert found is not None
    assert found.state == ProgressState.FAILED
    assert "secret" not in found.message
    result = DBTaskResult.objects.get(pk=progress.task_id)
    assert result.status == TaskResultStatus.FAILED


@pytest.mark.django_db
def test_a_task_that_never_touches_its_progress_still_ends_it() -> None:
    from tests.tasks import crash_without_tracking

    progress = actions.enqueue(crash_without_tracking, kind="test.crash", label="Crashing")
    run_queued_tasks()
    found = queries.progress_for(progress.id)
    assert found is not None
    assert found.state == ProgressState.FAILED
    assert found.message == actions.STOPPED_UNEXPECTEDLY


@pytest.mark.django_db
def test_the_immediate_backend_runs_tasks_at_once() -> None:
    with override_settings(TASKS=IMMEDIATE):
        progress = actions.enqueue(count_rows, kind="test.count", label="Counting", args=[3])
        failed = actions.enqueue(break_down, kind="test.break", label="Breaking down")
    assert progress.state == ProgressState.DONE
    assert failed.state == ProgressState.FAILED
    assert queued_task_count() == 0


def test_the_worker_thread_runs_what_is_queued_and_stops_cleanly(transactional_db) -> None:
    progress = actions.enqueue(count_rows, kind="test.count", label="Counting rows", args=[40])
    worker = start_background_worker(interval=0.1, role="test")
    assert worker is not None
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = queries.progress_for(progress.id)
            assert found is not None
            if found.is_finished:
                break
            time.sleep(0.05)
        assert found.state == ProgressState.DONE
        assert worker.ran == 1
    finally:
        assert worker.stop(timeout=30)
    assert not worker.thread.is_alive()


def test_the_worker_fixture_runs_tasks_beside_the_test(task_worker) -> None:
    result = add.enqueue(20, 22)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        result.refresh()
        if result.is_finished:
            break
        time.sleep(0.05)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 42


@pytest.mark.django_db
def test_no_worker_thread_when_tasks_are_not_queued_in_the_database() -> None:
    with override_settings(TASKS=IMMEDIATE):
        assert start_background_worker() is None
    with override_settings(TASKS_WORKER_IN_PROCESS=False):
        assert start_background_worker() is None


@pytest.mark.django_db
def test_accord_worker_batch_runs_the_queue_and_stops(capsys: pytest.CaptureFixture[str]) -> None:
    first = add.enqueue(1, 1)
    second = add.enqueue(2, 2)
    assert main(["worker", "--batch"]) == EXIT_OK
    assert "Ran 2 tasks." in capsys.readouterr().out
    first.refresh()
    second.refresh()
    assert (first.return_value, second.return_value) == (2, 4)


@pytest.mark.django_db
def test_accord_worker_max_tasks_stops_after_that_many(capsys: pytest.CaptureFixture[str]) -> None:
    add.enqueue(1, 1)
    add.enqueue(2, 2)
    assert main(["worker", "--batch", "--max-tasks", "1"]) == EXIT_OK
    assert "Ran 1 task." in capsys.readouterr().out
    assert queued_task_count() == 1


@pytest.mark.django_db
def test_accord_worker_refuses_without_the_database_backend(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with override_settings(TASKS=IMMEDIATE):
        assert main(["worker", "--batch"]) == EXIT_UNUSABLE
    assert "nothing for a worker to run" in capsys.readouterr().err


@pytest.mark.django_db
def test_follow_draws_a_bar_until_the_work_ends() -> None:
    progress = actions.enqueue(count_rows, kind="test.count", label="Counting rows", args=[30])
    run_queued_tasks()
    out = io.StringIO()
    final = follow(progress.id, interval=0.01, out=out, disable=False)
    assert final is not None
    assert final.state == ProgressState.DONE
    assert exit_status(final) == EXIT_OK
    drawn = out.getvalue()
    assert "Counting rows" in drawn
    assert "30/30" in drawn
    assert "100%" in drawn


@pytest.mark.django_db
def test_follow_gives_up_after_its_timeout_and_reports_failures() -> None:
    waiting = actions.queue(kind="test.count", label="Waiting", total=5)
    final = follow(waiting.id, interval=0.01, timeout=0.05, out=io.StringIO())
    assert final is not None
    assert not final.is_finished
    assert exit_status(final) == EXIT_PROBLEM
    actions.fail(waiting, message="It broke.")
    assert exit_status(follow(waiting.id, out=io.StringIO())) == EXIT_PROBLEM
    assert follow("5f0c6f0e-2b7e-4d7c-9d43-4f1f6bb1a111", out=io.StringIO()) is None
    assert exit_status(None) == EXIT_UNUSABLE
