"""`accord serve`: the audit checkpoint scheduler it starts.

The scheduler's thread waits ``interval`` seconds between ticks, so these tests never let it
tick: they check it starts and stops, and test its body (``checkpoint_if_moved``) directly.
"""

from __future__ import annotations

import threading

import pytest
from django.conf import settings

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.audit.checkpoints import CHECKPOINT_ACTION, SCHEDULER_TASK, checkpoint_if_moved
from accord.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from accord.cli import serve

THREAD_NAME = "audit-checkpoints"


def _scheduler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


@pytest.mark.parametrize("interval", [0, -1, -3600])
def test_no_interval_means_no_scheduler(interval: int) -> None:
    before = _scheduler_threads()
    assert serve.start_checkpoint_scheduler(interval) is None
    assert _scheduler_threads() == before


def test_tests_run_with_the_scheduler_off() -> None:
    assert settings.AUDIT_CHECKPOINT_INTERVAL == 0


def test_a_positive_interval_starts_a_daemon_thread_that_stops_when_told() -> None:
    before = set(_scheduler_threads())
    stop = serve.start_checkpoint_scheduler(24 * 60 * 60)
    try:
        assert isinstance(stop, threading.Event)
        assert not stop.is_set()
        started = [t for t in _scheduler_threads() if t not in before]
        assert len(started) == 1
        thread = started[0]
        assert thread.daemon
        assert thread.is_alive()
    finally:
        assert stop is not None
        stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.mark.django_db
def test_the_scheduler_body_signs_nothing_on_an_empty_chain() -> None:
    assert AuditHead.objects.get(pk=1).seq == 0
    assert checkpoint_if_moved() is None
    assert AuditCheckpoint.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_the_scheduler_body_signs_the_head_once_it_moves() -> None:
    record(by=Actor.system("test"), action="test.thing.done", target="thing:1")
    head = AuditHead.objects.get(pk=1)

    checkpoint = checkpoint_if_moved()
    assert checkpoint is not None
    assert (checkpoint.seq, checkpoint.head_hash) == (head.seq, head.hash)
    own = AuditEvent.objects.get(seq=head.seq + 1)
    assert own.action == CHECKPOINT_ACTION
    assert own.actor == f"task:{SCHEDULER_TASK}"

    # Its own checkpoint event does not count as movement: the next tick signs nothing.
    assert checkpoint_if_moved() is None
    assert AuditCheckpoint.objects.count() == 1

    record(by=Actor.system("test"), action="test.thing.done", target="thing:2")
    assert checkpoint_if_moved() is not None
    assert AuditCheckpoint.objects.count() == 2


def test_tests_run_with_the_retention_scheduler_off() -> None:
    assert settings.RETENTION_INTERVAL == 0
    assert serve.start_retention_scheduler(settings.RETENTION_INTERVAL) is None


def test_a_scheduler_runs_its_job_at_start_when_asked_and_survives_a_failure() -> None:
    ran = threading.Event()
    calls: list[int] = []

    def job() -> None:
        calls.append(1)
        ran.set()
        raise RuntimeError("the database is restarting")

    stop = serve.start_scheduler("test-scheduler", 24 * 60 * 60, job, run_at_start=True)
    assert stop is not None
    try:
        thread = next(t for t in threading.enumerate() if t.name == "test-scheduler")
        assert ran.wait(timeout=30)  # ran once at start, without waiting a day
    finally:
        stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()  # the failure was logged, not raised out of the thread
    assert calls == [1]
