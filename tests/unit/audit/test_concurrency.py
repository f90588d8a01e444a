"""Writers in parallel never fork the chain; refusals survive the rollback of their action.

These tests commit for real (the transactional_db fixture, which tests/conftest.py pairs with
the audit triggers), so other threads and connections see the data.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from accord.audit.actions import audited, record
from accord.audit.actor import Actor
from accord.audit.checkpoints import checkpoint_if_moved
from accord.audit.enums import Outcome
from accord.audit.exceptions import NotPermitted, Refused
from accord.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from accord.audit.verification import verify_chain

from .helpers import PERSON

THREADS = 4
EVENTS_EACH = 25


def _in_threads(work: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(work))

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_writers_never_fork_the_chain(transactional_db: None) -> None:
    def writer(number: int) -> Callable[[], None]:
        def job() -> None:
            for n in range(EVENTS_EACH):
                record(by=PERSON, action="test.concurrent", target=f"writer:{number}:{n}")

        return job

    def checkpointer() -> None:
        for _ in range(5):
            checkpoint_if_moved()

    errors = _in_threads([writer(i) for i in range(THREADS)] + [checkpointer])
    assert errors == []

    written = AuditEvent.objects.filter(action="test.concurrent")
    assert written.count() == THREADS * EVENTS_EACH
    assert {e.target for e in written} == {
        f"writer:{i}:{n}" for i in range(THREADS) for n in range(EVENTS_EACH)
    }
    total = AuditEvent.objects.count()
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, total + 1)
    )
    events = list(AuditEvent.objects.order_by("seq"))
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    head = AuditHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (total, events[-1].hash)
    result = verify_chain()
    assert result.ok, result.problems
    assert result.signatures_checked == 2 * AuditCheckpoint.objects.count()


@audited("test.group.created")
def create_group(*, by: Actor, name: str, refuse: bool = False) -> Group:
    group = Group.objects.create(name=name)
    record(by=by, action="test.group.created", target=f"group:{group.pk}")
    if refuse:
        raise NotPermitted("Only admins may create groups.", target=f"group:{name}")
    return group


def test_a_refusal_is_recorded_after_the_action_is_rolled_back(transactional_db: None) -> None:
    with pytest.raises(Refused, match="Only admins may create groups"):
        create_group(by=PERSON, name="editors", refuse=True)

    assert not Group.objects.exists()  # the action's own write is gone...
    event = AuditEvent.objects.get()  # ... and so is its success event; the refusal stays
    assert event.seq == 1
    assert event.action == "test.group.created"
    assert event.outcome == Outcome.REFUSED
    assert event.reason == "Only admins may create groups."
    assert event.target == "group:editors"
    assert event.actor == PERSON.ref
    assert verify_chain().ok


def test_an_allowed_action_commits_with_its_event(transactional_db: None) -> None:
    group = create_group(by=PERSON, name="readers")
    assert Group.objects.filter(pk=group.pk).exists()
    event = AuditEvent.objects.get()
    assert (event.outcome, event.target) == (Outcome.SUCCESS, f"group:{group.pk}")


def test_other_errors_roll_back_without_a_refusal(transactional_db: None) -> None:
    @audited("test.broken")
    def broken(*, by: Actor) -> None:
        record(by=by, action="test.broken")
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        broken(by=PERSON)
    assert not AuditEvent.objects.exists()


def test_an_audited_action_needs_an_actor() -> None:
    with pytest.raises(TypeError, match="needs by=Actor"):
        create_group(by="someone", name="x")  # type: ignore[arg-type]
