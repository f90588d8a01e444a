"""The explicit tables of moves for a request and for each holder's answer.

request:  open ──(every holder answered, one or more approved)──► approved
          open ──(every holder answered, all declined)──────────► declined
          open ──withdraw──► withdrawn
answer:   awaiting ──approve──► approved
          awaiting ──decline──► declined
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RequestStatus = Literal["open", "approved", "declined", "withdrawn"]
Answer = Literal["awaiting", "approved", "declined"]

STATUS_LABELS: dict[str, str] = {
    "open": "Open",
    "approved": "Approved",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
}
ANSWER_LABELS: dict[str, str] = {
    "awaiting": "Awaiting an answer",
    "approved": "Approved",
    "declined": "Declined",
}


@dataclass(frozen=True)
class Move:
    event: str
    source: str
    target: str


REQUEST_MOVES: tuple[Move, ...] = (
    Move("answered_approved", "open", "approved"),
    Move("answered_declined", "open", "declined"),
    Move("withdraw", "open", "withdrawn"),
)
ANSWER_MOVES: tuple[Move, ...] = (
    Move("approve", "awaiting", "approved"),
    Move("decline", "awaiting", "declined"),
)


class NotAllowed(ValueError):
    pass


def move(table: tuple[Move, ...], source: str, event: str) -> Move:
    for candidate in table:
        if candidate.source == source and candidate.event == event:
            return candidate
    raise NotAllowed(f"This cannot be done while it is {source.replace('_', ' ')}.")


def settled(answers: list[str]) -> str | None:
    """The request's event once every holder has answered, else None."""
    if not answers or "awaiting" in answers:
        return None
    return "answered_approved" if "approved" in answers else "answered_declined"
