"""The explicit table of moves for a submission.

    received ──start──► validating ──accept──► accepted ──supersede──► superseded
                            │
                            └──reject──► rejected

A submission is accepted when the collection's rule allows: with no errors, or — where the
collection sets invalid rows aside — with at least one valid row. A newer accepted submission
for the same collection, organisation and period supersedes the older one; a rejected upload
never touches what was accepted before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

State = Literal["received", "validating", "rejected", "accepted", "superseded"]

LABELS: dict[str, str] = {
    "received": "Received",
    "validating": "Being checked",
    "rejected": "Rejected",
    "accepted": "Accepted",
    "superseded": "Replaced by a later return",
}
TAGS: dict[str, str] = {
    "received": "grey",
    "validating": "blue",
    "rejected": "red",
    "accepted": "green",
    "superseded": "grey",
}


@dataclass(frozen=True)
class Move:
    event: str
    source: State
    target: State


MOVES: tuple[Move, ...] = (
    Move("start", "received", "validating"),
    Move("accept", "validating", "accepted"),
    Move("reject", "validating", "rejected"),
    Move("reject", "received", "rejected"),  # could not be read at all
    Move("supersede", "accepted", "superseded"),
)


class NotAllowed(ValueError):
    pass


def move(source: str, event: str) -> Move:
    for candidate in MOVES:
        if candidate.source == source and candidate.event == event:
            return candidate
    raise NotAllowed(f"A submission that is {LABELS.get(source, source).lower()} cannot {event}.")
