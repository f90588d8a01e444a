"""The clocks of a breach, both from the moment it was discovered:

- **partners**: the agreement's ``breach_handling.notify_parties_within_hours``; when the
  agreement says nothing, its framework's clause (``breach_notify_hours``); with neither, 24
  hours (common practice, not law). Reporting in Accord is the notification: every party's
  DPO is told at once, so this clock is met or late, never left running.
- **ICO**: 72 hours (UK GDPR Article 33(1)). Met by telling the ICO, or by recording, after
  assessing the risk as unlikely, why it need not be told.

Each clock is ``met`` (done by the deadline), ``late`` (done after it), ``due`` (not done, time
left) or ``overdue`` (not done, deadline passed). A closed breach's clocks no longer run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from accord.agreements.document import DataSharingAgreement
from accord.agreements.frameworks import Clauses
from accord.agreements.models import Agreement

from .models import Breach

ICO_HOURS = 72
DEFAULT_PARTNER_HOURS = 24

ClockState = Literal["met", "late", "due", "overdue"]
TAGS: dict[str, str] = {"met": "green", "late": "orange", "due": "yellow", "overdue": "red"}
LABELS: dict[str, str] = {
    "met": "Done in time",
    "late": "Done late",
    "due": "Due",
    "overdue": "Overdue",
}


def partner_hours(agreement: Agreement, document: DataSharingAgreement) -> tuple[int, str]:
    """How many hours the parties have to tell each other, and where that comes from."""
    handling = document.breach_handling
    if handling is not None and handling.notify_parties_within_hours:
        return handling.notify_parties_within_hours, "agreement"
    framework = agreement.framework
    if framework is not None:
        clauses = Clauses.model_validate(framework.clauses or {})
        if clauses.breach_notify_hours:
            return clauses.breach_notify_hours, "framework"
    return DEFAULT_PARTNER_HOURS, "default"


@dataclass(frozen=True)
class Clock:
    name: str  # "partners" or "ico"
    title: str
    hours: int
    deadline: dt.datetime
    done_at: dt.datetime | None
    state: ClockState
    now: dt.datetime

    @property
    def tag(self) -> str:
        return TAGS[self.state]

    @property
    def label(self) -> str:
        return LABELS[self.state]

    @property
    def flagged(self) -> bool:
        return self.state in ("late", "overdue")

    @property
    def remaining(self) -> str:
        """Time left, or how long overdue, in whole hours and minutes (for due and overdue)."""
        delta = self.deadline - self.now if self.state == "due" else self.now - self.deadline
        minutes = max(int(delta.total_seconds() // 60), 0)
        hours, minutes = divmod(minutes, 60)
        text = f"{hours} hour{'s' if hours != 1 else ''} {minutes} min"
        return f"{text} left" if self.state == "due" else f"{text} overdue"


def _state(deadline: dt.datetime, done_at: dt.datetime | None, now: dt.datetime) -> ClockState:
    if done_at is not None:
        return "met" if done_at <= deadline else "late"
    return "overdue" if now > deadline else "due"


def ico_done_at(breach: Breach) -> dt.datetime | None:
    """When the ICO clock stopped: the ICO was told, or not telling it was recorded."""
    if breach.ico_told:
        return breach.ico_told_at or breach.ico_decided_at
    if breach.ico_told is False:
        return breach.ico_decided_at
    return None


def clocks(breach: Breach, now: dt.datetime) -> list[Clock]:
    if breach.closed_at is not None:
        now = min(now, breach.closed_at)
    partners = Clock(
        name="partners",
        title="Tell the other parties",
        hours=breach.partner_hours,
        deadline=breach.partner_deadline,
        done_at=breach.partners_notified_at,
        state=_state(breach.partner_deadline, breach.partners_notified_at, now),
        now=now,
    )
    done = ico_done_at(breach)
    ico = Clock(
        name="ico",
        title="Tell the ICO, or record why not",
        hours=ICO_HOURS,
        deadline=breach.ico_deadline,
        done_at=done,
        state=_state(breach.ico_deadline, done, now),
        now=now,
    )
    return [partners, ico]


def flags(breach: Breach, now: dt.datetime) -> list[str]:
    """What is wrong with the breach's steps, in words, for the page and the list."""
    found = []
    for clock in clocks(breach, now):
        if clock.state == "overdue":
            found.append(f"{clock.title}: overdue since {clock.deadline:%-d %B %Y %H:%M}")
        elif clock.state == "late":
            found.append(f"{clock.title}: done late")
    if breach.risk == "high" and breach.subjects_told is None and breach.closed_at is None:
        found.append("Tell the people affected: needed because the risk is high")
    return found


def overdue(breach: Breach, now: dt.datetime) -> list[Clock]:
    """The clocks whose deadline has passed without the step (what reminders flag)."""
    if breach.closed_at is not None:
        return []
    return [c for c in clocks(breach, now) if c.state == "overdue"]
