"""The explicit move tables of a data request and of each holder's answer."""

from __future__ import annotations

import pytest

from accord.data_requests import transitions
from accord.data_requests.transitions import ANSWER_MOVES, REQUEST_MOVES, NotAllowed, move, settled


@pytest.mark.parametrize(
    ("event", "target"),
    [
        ("answered_approved", "approved"),
        ("answered_declined", "declined"),
        ("withdraw", "withdrawn"),
    ],
)
def test_an_open_request_moves(event, target) -> None:
    step = move(REQUEST_MOVES, "open", event)
    assert (step.source, step.event, step.target) == ("open", event, target)


@pytest.mark.parametrize("source", ["approved", "declined", "withdrawn"])
@pytest.mark.parametrize("event", ["answered_approved", "answered_declined", "withdraw"])
def test_a_closed_request_never_moves_again(source, event) -> None:
    with pytest.raises(NotAllowed, match=f"while it is {source}"):
        move(REQUEST_MOVES, source, event)


@pytest.mark.parametrize(("event", "target"), [("approve", "approved"), ("decline", "declined")])
def test_a_holder_answers_once(event, target) -> None:
    assert move(ANSWER_MOVES, "awaiting", event).target == target
    for answered in ("approved", "declined"):
        with pytest.raises(NotAllowed):
            move(ANSWER_MOVES, answered, event)


def test_unknown_events_and_tables_do_not_mix() -> None:
    with pytest.raises(NotAllowed):
        move(REQUEST_MOVES, "open", "approve")  # an answer's event, not a request's
    with pytest.raises(NotAllowed):
        move(ANSWER_MOVES, "awaiting", "withdraw")
    with pytest.raises(NotAllowed, match="while it is in review"):
        move(REQUEST_MOVES, "in_review", "withdraw")


@pytest.mark.parametrize(
    ("answers", "event"),
    [
        ([], None),
        (["awaiting"], None),
        (["approved", "awaiting"], None),
        (["declined", "awaiting", "declined"], None),
        (["approved"], "answered_approved"),
        (["declined"], "answered_declined"),
        (["approved", "declined"], "answered_approved"),
        (["declined", "approved"], "answered_approved"),
        (["declined", "declined"], "answered_declined"),
    ],
)
def test_a_request_settles_only_when_every_holder_has_answered(answers, event) -> None:
    assert settled(answers) == event


def test_every_state_has_a_label() -> None:
    request_states = {m.source for m in REQUEST_MOVES} | {m.target for m in REQUEST_MOVES}
    answer_states = {m.source for m in ANSWER_MOVES} | {m.target for m in ANSWER_MOVES}
    assert request_states == set(transitions.STATUS_LABELS)
    assert answer_states == set(transitions.ANSWER_LABELS)
    # Every settled event is a move of an open request.
    for answers in (["approved"], ["declined"]):
        assert move(REQUEST_MOVES, "open", settled(answers)).source == "open"
