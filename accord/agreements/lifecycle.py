"""An agreement's lifecycle: the statuses of the reference schema and the only moves allowed
between them, with what each move means. Review due is a flag computed from dates, not a status.

    draft ──submit──► in_review ──approve──► approved ──activate──► active
      ▲                  │                                          │  ▲
      └────return────────┘                              suspend ─► suspended ─ resume
                                 active or suspended ──► terminated, expired, superseded

Guards that need more than the two statuses (every required signature present, no blockers,
the start date reached) belong to the actions that make the move; this module only says which
moves exist, so no code path can invent another.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, get_args

from .document import Status

STATUSES: tuple[Status, ...] = get_args(Status)
ENDED: frozenset[Status] = frozenset({"expired", "terminated", "superseded"})

# Days before the review date when "review due" is raised.
REVIEW_NOTICE_DAYS = 60


@dataclass(frozen=True)
class Move:
    event: str
    source: Status
    target: Status
    meaning: str


MOVES: tuple[Move, ...] = (
    Move("submit", "draft", "in_review", "sent to every party for review and signature"),
    Move("return", "in_review", "draft", "sent back for changes; signatures so far are void"),
    Move("approve", "in_review", "approved", "every party's required signatories have signed"),
    Move("activate", "approved", "active", "in force from its start date"),
    Move("suspend", "active", "suspended", "sharing stopped until resumed; nothing flows"),
    Move("resume", "suspended", "active", "sharing allowed again"),
    Move("terminate", "active", "terminated", "ended early by a party"),
    Move("terminate", "suspended", "terminated", "ended early by a party"),
    Move("expire", "active", "expired", "its end date has passed"),
    Move("expire", "suspended", "expired", "its end date has passed"),
    Move("supersede", "active", "superseded", "replaced by a newer signed version"),
    Move("supersede", "suspended", "superseded", "replaced by a newer signed version"),
)


class NotAllowed(ValueError):
    """A move the lifecycle does not have."""


def move(source: Status, event: str) -> Move:
    """The move ``event`` from ``source``, or NotAllowed saying which moves there are."""
    for candidate in MOVES:
        if candidate.source == source and candidate.event == event:
            return candidate
    allowed = sorted({m.event for m in MOVES if m.source == source})
    if not allowed:
        raise NotAllowed(f"An agreement that is {_label(source)} cannot change any more.")
    raise NotAllowed(
        f"An agreement that is {_label(source)} cannot be {_past(event)}; it can only be "
        + " or ".join(_past(e) for e in allowed)
        + "."
    )


def events_from(source: Status) -> tuple[str, ...]:
    return tuple(sorted({m.event for m in MOVES if m.source == source}))


ReviewState = Literal["not_due", "due", "overdue"]


def review_state(review_date: dt.date | None, today: dt.date) -> ReviewState:
    """Raised REVIEW_NOTICE_DAYS before the review date; overdue once it has passed."""
    if review_date is None:
        return "not_due"
    if today > review_date:
        return "overdue"
    if (review_date - today).days <= REVIEW_NOTICE_DAYS:
        return "due"
    return "not_due"


def _label(status: Status) -> str:
    return status.replace("_", " ")


def _past(event: str) -> str:
    return {
        "submit": "submitted for review",
        "return": "returned for changes",
        "approve": "approved",
        "activate": "made active",
        "suspend": "suspended",
        "resume": "resumed",
        "terminate": "terminated",
        "expire": "expired",
        "supersede": "superseded",
    }[event]
