"""The agreement lifecycle allows exactly the moves in its table, and names the others."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from accord.agreements import lifecycle
from accord.agreements.lifecycle import ENDED, MOVES, STATUSES, NotAllowed, move, review_state

EXPECTED = {
    ("draft", "submit"): "in_review",
    ("in_review", "return"): "draft",
    ("in_review", "approve"): "approved",
    ("approved", "activate"): "active",
    ("active", "suspend"): "suspended",
    ("suspended", "resume"): "active",
    ("active", "terminate"): "terminated",
    ("suspended", "terminate"): "terminated",
    ("active", "expire"): "expired",
    ("suspended", "expire"): "expired",
    ("active", "supersede"): "superseded",
    ("suspended", "supersede"): "superseded",
}
EVENTS = sorted({m.event for m in MOVES})


@pytest.mark.parametrize(("source", "event"), list(itertools.product(STATUSES, EVENTS)))
def test_every_status_and_event(source, event) -> None:
    if (source, event) in EXPECTED:
        assert move(source, event).target == EXPECTED[(source, event)]
    else:
        with pytest.raises(NotAllowed):
            move(source, event)


def test_an_ended_agreement_cannot_change() -> None:
    for status in ENDED:
        assert lifecycle.events_from(status) == ()
        with pytest.raises(NotAllowed, match="cannot change any more"):
            move(status, "resume")


def test_a_refusal_says_what_is_possible() -> None:
    with pytest.raises(NotAllowed) as refused:
        move("draft", "activate")
    assert str(refused.value) == (
        "An agreement that is draft cannot be made active; it can only be submitted for review."
    )


def test_nothing_reaches_active_without_approval() -> None:
    sources = {m.source for m in MOVES if m.target == "active"}
    assert sources == {"approved", "suspended"}


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (dt.date(2026, 1, 1), "not_due"),
        (dt.date(2026, 7, 2), "not_due"),
        (dt.date(2026, 7, 3), "due"),
        (dt.date(2026, 9, 1), "due"),
        (dt.date(2026, 9, 2), "overdue"),
    ],
)
def test_review_is_a_flag_from_the_dates(today, state) -> None:
    assert review_state(dt.date(2026, 9, 1), today) == state
    assert review_state(None, today) == "not_due"
