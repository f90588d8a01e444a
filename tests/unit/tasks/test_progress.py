"""Progress records: starting, throttled advances, finishing and failing, and the record a task
that dies leaves behind."""

from __future__ import annotations

import pytest

from accord.tasks import actions, queries
from accord.tasks.enums import ProgressState
from accord.tasks.exceptions import ProgressFinished
from accord.tasks.models import TaskProgress
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(actions, "_clock", fake)
    return fake


def stored(progress: TaskProgress) -> TaskProgress:
    found = queries.progress_for(progress.id)
    assert found is not None
    return found


def test_start_records_running_work_for_its_owner() -> None:
    council = OrganisationFactory()
    progress = actions.start(
        kind="test.count", label="Counting rows", owner=council, target="thing:1", total=10
    )
    found = stored(progress)
    assert found.state == ProgressState.RUNNING
    assert found.owner == council
    assert (found.done, found.total, found.percent) == (0, 10, 0)
    assert found.started_at is not None
    assert found.finished_at is None
    assert not found.is_finished


def test_queued_work_starts_running_at_its_first_advance(clock: FakeClock) -> None:
    progress = actions.queue(kind="test.count", label="Counting rows")
    assert stored(progress).state == ProgressState.QUEUED
    assert stored(progress).started_at is None
    # Written at once, however soon after the last write: the page must see it start.
    assert actions.advance(progress, done=1, total=4) is True
    found = stored(progress)
    assert found.state == ProgressState.RUNNING
    assert found.started_at is not None
    assert (found.done, found.total) == (1, 4)


def test_advances_write_at_most_every_half_second(clock: FakeClock) -> None:
    progress = actions.start(kind="test.count", label="Counting rows", total=1000)
    writes = []
    for n in range(1, 1001):
        clock.now += 0.01  # a thousand rows in ten seconds
        writes.append(actions.advance(progress, done=n))
    assert 19 <= sum(writes) <= 20  # 10 s at 2 writes a second, not 1000 writes
    assert progress.done == 1000  # the instance always has the latest figures
    assert stored(progress).done < 1000  # the database has the last written ones


def test_a_forced_advance_writes_at_once(clock: FakeClock) -> None:
    progress = actions.start(kind="test.count", label="Counting rows", total=10)
    assert actions.advance(progress, step=3) is False
    assert stored(progress).done == 0
    assert actions.advance(progress, step=2, message="Half way", force=True) is True
    found = stored(progress)
    assert (found.done, found.message) == (5, "Half way")


def test_steps_add_up_and_the_total_can_come_later(clock: FakeClock) -> None:
    progress = actions.start(kind="test.count", label="Reading the file")
    assert progress.percent is None  # total unknown: no percentage
    actions.advance(progress, step=5)
    actions.advance(progress, step=5, total=40)
    clock.now += 1
    actions.advance(progress, step=10)
    found = stored(progress)
    assert (found.done, found.total, found.percent) == (20, 40, 50)


def test_finish_writes_at_once_and_fills_the_bar(clock: FakeClock) -> None:
    progress = actions.start(kind="test.count", label="Counting rows", total=10)
    actions.advance(progress, done=7)  # throttled: not written
    actions.finish(progress, message="Counted 10 rows.")
    found = stored(progress)
    assert found.state == ProgressState.DONE
    assert (found.done, found.percent) == (10, 100)
    assert found.message == "Counted 10 rows."
    assert found.finished_at is not None
    assert found.is_finished


def test_finish_without_a_total_keeps_the_count() -> None:
    progress = actions.start(kind="test.count", label="Reading the file")
    actions.advance(progress, done=12)
    actions.finish(progress)
    found = stored(progress)
    assert (found.done, found.total, found.percent) == (12, None, 100)


def test_fail_writes_at_once_and_keeps_how_far_it_got(clock: FakeClock) -> None:
    progress = actions.start(kind="test.count", label="Counting rows", total=10)
    actions.advance(progress, done=4)
    actions.fail(progress, message="The file could not be read. Upload it again.")
    found = stored(progress)
    assert found.state == ProgressState.FAILED
    assert (found.done, found.percent) == (4, 40)
    assert found.message == "The file could not be read. Upload it again."
    assert found.finished_at is not None


@pytest.mark.parametrize("end", [actions.finish, lambda p: actions.fail(p, message="No.")])
def test_finished_is_final(end) -> None:
    progress = actions.start(kind="test.count", label="Counting rows", total=2)
    end(progress)
    with pytest.raises(ProgressFinished):
        actions.advance(progress, step=1)
    with pytest.raises(ProgressFinished):
        actions.finish(progress)
    with pytest.raises(ProgressFinished):
        actions.fail(progress, message="Again.")


def test_tracking_finishes_work_whose_body_returns() -> None:
    progress = actions.queue(kind="test.count", label="Counting rows", total=3)
    with actions.tracking(str(progress.id)) as tracked:
        actions.advance(tracked, done=3)
    assert stored(progress).state == ProgressState.DONE


def test_tracking_fails_work_whose_body_raises_without_saying_why() -> None:
    progress = actions.queue(kind="test.count", label="Counting rows", total=3)

    def job() -> None:
        with actions.tracking(progress.id) as tracked:
            actions.advance(tracked, done=1)
            raise ValueError("secret row contents")

    with pytest.raises(ValueError, match="secret"):
        job()
    found = stored(progress)
    assert found.state == ProgressState.FAILED
    assert found.message == actions.STOPPED_UNEXPECTEDLY
    assert "secret" not in found.message


def test_tracking_keeps_an_ending_the_body_chose() -> None:
    progress = actions.queue(kind="test.count", label="Checking the file")
    with actions.tracking(progress) as tracked:
        actions.fail(tracked, message="Column B is missing. Add it and upload again.")
    found = stored(progress)
    assert found.state == ProgressState.FAILED
    assert found.message == "Column B is missing. Add it and upload again."


def test_settle_ends_only_unfinished_records_of_that_task() -> None:
    running = actions.start(kind="test.count", label="A")
    done = actions.start(kind="test.count", label="B")
    other = actions.start(kind="test.count", label="C")
    TaskProgress.objects.filter(pk__in=[running.pk, done.pk]).update(task_id="task-1")
    TaskProgress.objects.filter(pk=other.pk).update(task_id="task-2")
    actions.finish(done, message="Fine.")
    assert actions.settle("task-1", failed=True) == 1
    assert stored(running).state == ProgressState.FAILED
    assert stored(done).state == ProgressState.DONE
    assert stored(other).state == ProgressState.RUNNING


def test_progress_for_an_unknown_or_malformed_id_is_none() -> None:
    assert queries.progress_for("not-a-uuid") is None
    assert queries.progress_for("5f0c6f0e-2b7e-4d7c-9d43-4f1f6bb1a111") is None


def test_shown_step_changes_every_tenth_and_with_state_and_message(clock: FakeClock) -> None:
    progress = actions.start(kind="test.count", label="Counting rows", total=100)
    first = progress.shown_step
    actions.advance(progress, done=9)
    assert progress.shown_step == first
    actions.advance(progress, done=10)
    assert progress.shown_step != first
    step = progress.shown_step
    actions.advance(progress, done=11, message="Now the dates")
    assert progress.shown_step != step
