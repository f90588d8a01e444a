"""Flagging overdue outcome reports to the recipient that owes them and to the organisations
they are owed to. Each due date is flagged once (``SentReminder``), so the daily run can be
repeated safely; only the latest overdue due date of each commitment is flagged, with how many
earlier ones are also unreported."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.notifications.actions import notify, once
from accord.notifications.models import Topic

from . import queries
from .actions import TOLD_ROLES


@dataclass
class ReminderRun:
    commitments: int = 0
    sent: int = 0
    already_sent: int = 0
    reminded: list[str] = field(default_factory=list)


def reminder_key(commitment: queries.Commitment, due_on: dt.date) -> str:
    return (
        f"outcome:{commitment.agreement.pk}:{commitment.index}:{commitment.owed_by.pk}:"
        f"{due_on:%Y%m%d}"
    )


def send_outcome_reminders(*, today: dt.date | None = None, by: Actor | None = None) -> ReminderRun:
    """Flag, once per due date, each commitment whose latest due date has passed unreported."""
    today = today or timezone.localdate()
    by = by or Actor.task("outcome-reminders")
    run = ReminderRun()
    for commitment in queries.every_commitment(today=today):
        run.commitments += 1
        overdue = commitment.overdue
        if overdue:
            _once(by, run, commitment, overdue[-1].due_on, len(overdue) - 1, today)
    return run


def _once(
    by: Actor,
    run: ReminderRun,
    commitment: queries.Commitment,
    due_on: dt.date,
    earlier: int,
    today: dt.date,
) -> None:
    agreement, recipient = commitment.agreement, commitment.owed_by
    when = f"{due_on:%-d %B %Y}"
    late = (today - due_on).days
    also = f" {earlier} earlier report(s) are also missing." if earlier else ""

    def send() -> None:
        notify(
            by=by,
            organisation=recipient,
            topic=Topic.OUTCOMES_OVERDUE,
            subject=f"Outcomes overdue: {commitment.what}"[:200],
            body=(
                f"Under the agreement “{agreement.title}”, {recipient.name} reports "
                f"“{commitment.what}” to {commitment.owed_to_names}. The report due on "
                f"{when} has not been made ({late} day(s) ago).{also} Report it as soon as "
                "you can."
            ),
            link=reverse("web:outcomes"),
            roles=TOLD_ROLES,
        )
        for provider in commitment.owed_to:
            notify(
                by=by,
                organisation=provider,
                topic=Topic.OUTCOMES_OVERDUE,
                subject=f"{recipient.name} is late reporting outcomes: {commitment.what}"[:200],
                body=(
                    f"Under the agreement “{agreement.title}”, {recipient.name} owes you "
                    f"“{commitment.what}”. The report due on {when} has not been made."
                    f"{also} They have been reminded."
                ),
                link=reverse("web:outcomes_received"),
                roles=TOLD_ROLES,
            )
        record(
            by=by,
            action="outcome.reminded",
            target=f"agreement:{agreement.pk}",
            subject_organisation_id=str(recipient.pk),
            details={
                "commitment": {"index": commitment.index, "what": commitment.what},
                "due_on": due_on.isoformat(),
                "earlier_missing": earlier,
                "told": [str(o.pk) for o in (recipient, *commitment.owed_to)],
            },
        )

    if not once(reminder_key(commitment, due_on), send):
        run.already_sent += 1
        return
    run.sent += 1
    run.reminded.append(f"{recipient.name}: {commitment.what} ({agreement.title}), due {when}")
