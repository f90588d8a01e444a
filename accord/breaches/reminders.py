"""Flagging overdue breach steps to every party: the ICO deadline passed with no decision
recorded (and, should one ever be, the partner deadline). Each clock of each breach is
flagged once (``SentReminder``), so the daily run can be repeated safely."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.notifications.actions import once
from accord.notifications.models import Topic

from . import deadlines, queries
from .actions import _tell_parties
from .models import Breach


@dataclass
class ReminderRun:
    breaches: int = 0
    sent: int = 0
    already_sent: int = 0
    reminded: list[str] = field(default_factory=list)


def reminder_key(breach: Breach, clock: str) -> str:
    return f"breach:{breach.pk}:{clock}:overdue"


def moment_of(today: dt.date) -> dt.datetime:
    """Now, when run for today; otherwise the end of ``today`` (as if run late that day)."""
    if today == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(dt.datetime.combine(today, dt.time(23, 59, 59)))


def send_breach_reminders(
    *, now: dt.datetime | None = None, today: dt.date | None = None, by: Actor | None = None
) -> ReminderRun:
    """Flag, once per clock, each open breach whose deadline has passed without the step."""
    now = now or moment_of(today or timezone.localdate())
    by = by or Actor.task("breach-reminders")
    run = ReminderRun()
    for breach in queries.open_breaches():
        run.breaches += 1
        for clock in deadlines.overdue(breach, now):
            _once(by, run, breach, clock)
    return run


def _once(by: Actor, run: ReminderRun, breach: Breach, clock: deadlines.Clock) -> None:
    agreement = breach.agreement
    deadline = f"{timezone.localtime(clock.deadline):%-d %B %Y at %H:%M}"

    def send() -> None:
        told = _tell_parties(
            by,
            breach,
            topic=Topic.BREACH_OVERDUE,
            subject=f"Breach {breach.reference} overdue: {clock.title}",
            body=(
                f"The suspected breach {breach.reference} under the agreement "
                f"“{agreement.title}” had to be dealt with by {deadline}: "
                f"{clock.title.lower()}. Nothing has been recorded. Record it on the breach's "
                "page as soon as you can."
            ),
        )
        record(
            by=by,
            action="breach.reminded",
            target=f"breach:{breach.pk}",
            details={
                "clock": clock.name,
                "deadline": clock.deadline.isoformat(),
                "agreement": {"id": str(agreement.pk), "title": agreement.title},
                "told": told,
            },
        )

    if not once(reminder_key(breach, clock.name), send):
        run.already_sent += 1
        return
    run.sent += 1
    run.reminded.append(f"{breach.reference} ({agreement.title}): {clock.title}, due {deadline}")
