"""The breach's table of moves: only these exist, and the refusals say what can be done."""

from __future__ import annotations

import pytest

from accord.breaches import transitions
from accord.breaches.enums import Status


def test_the_steps_run_in_the_icos_order() -> None:
    assert transitions.move("reported", "contain").target == Status.CONTAINED
    assert transitions.move("contained", "assess").target == Status.ASSESSED
    assert transitions.move("assessed", "close").target == Status.CLOSED


@pytest.mark.parametrize("status", ["reported", "contained", "assessed"])
def test_the_ico_can_be_told_from_the_start(status: str) -> None:
    assert transitions.move(status, "tell_ico").target == status


@pytest.mark.parametrize(
    ("status", "event"),
    [
        ("reported", "assess"),
        ("reported", "close"),
        ("reported", "tell_subjects"),
        ("contained", "close"),
        ("contained", "contain"),
        ("assessed", "contain"),
    ],
)
def test_moves_out_of_order_are_refused_with_what_can_be_done(status: str, event: str) -> None:
    with pytest.raises(transitions.NotAllowed) as refusal:
        transitions.move(status, event)
    assert f"This breach is {Status(status).label.lower()}" in str(refusal.value)
    assert "you can" in str(refusal.value)


def test_nothing_moves_a_closed_breach() -> None:
    assert transitions.events_from("closed") == ()
    with pytest.raises(transitions.NotAllowed, match="nothing more can be recorded"):
        transitions.move("closed", "tell_ico")


def test_every_state_but_closed_can_move_and_every_event_is_named() -> None:
    for status in Status:
        assert bool(transitions.events_from(status)) is (status != Status.CLOSED)
    assert {m.event for m in transitions.MOVES} == set(transitions.EVENT_NAMES)
