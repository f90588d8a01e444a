"""A breach's states and the only moves between them, in the order the ICO's guidance gives
(contain, assess, notify, review). Telling the ICO is allowed from the start, since the 72
hours run whatever containment takes; deciding not to tell it, and the decision about the
people affected, need the assessment.

    reported ──contain──► contained ──assess──► assessed ──close──► closed
       │ ▲ tell_ico         │ ▲ tell_ico          │ ▲ tell_ico, decide_ico, tell_subjects,
       └─┘                  └─┘                   └─┘ reassess

Guards that need more than the status (a decision already recorded, the risk level, what
closing needs) belong to the actions; this module only says which moves exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from .enums import Status


@dataclass(frozen=True)
class Move:
    event: str
    source: Status
    target: Status
    meaning: str


MOVES: tuple[Move, ...] = (
    Move("contain", Status.REPORTED, Status.CONTAINED, "the breach is contained"),
    Move("assess", Status.CONTAINED, Status.ASSESSED, "the risk to people is assessed"),
    Move("reassess", Status.ASSESSED, Status.ASSESSED, "the risk to people is assessed again"),
    Move("tell_ico", Status.REPORTED, Status.REPORTED, "the ICO is told"),
    Move("tell_ico", Status.CONTAINED, Status.CONTAINED, "the ICO is told"),
    Move("tell_ico", Status.ASSESSED, Status.ASSESSED, "the ICO is told, or why not recorded"),
    Move("tell_subjects", Status.ASSESSED, Status.ASSESSED, "the people are told, or why not"),
    Move("close", Status.ASSESSED, Status.CLOSED, "closed with the lessons learned"),
)

EVENT_NAMES = {
    "contain": "record containment",
    "assess": "record the assessment",
    "reassess": "change the assessment",
    "tell_ico": "record the decision about the ICO",
    "tell_subjects": "record the decision about the people affected",
    "close": "close it",
}


class NotAllowed(ValueError):
    """A move the table does not have."""


def move(source: str, event: str) -> Move:
    """The move ``event`` from ``source``, or NotAllowed saying what can be done instead."""
    for candidate in MOVES:
        if candidate.source == source and candidate.event == event:
            return candidate
    label = Status(source).label.lower()
    allowed = events_from(source)
    if not allowed:
        raise NotAllowed(f"This breach is {label}; nothing more can be recorded against it.")
    raise NotAllowed(
        f"This breach is {label}, so you cannot {EVENT_NAMES.get(event, event)} yet; you can "
        + " or ".join(EVENT_NAMES[e] for e in allowed)
        + "."
    )


def events_from(source: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.event for m in MOVES if m.source == source))


def can(source: str, event: str) -> bool:
    return any(m.source == source and m.event == event for m in MOVES)
