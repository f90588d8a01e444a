"""Flagging overdue outputs: when the collection's schedule says a newer output is due (a day
after the next period for a daily collection) and none has been made, the owner that makes it
and every organisation it is returned to are told, once per due date (``SentReminder``), so
the daily run can be repeated safely."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone

from accord.access.models import Grant
from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.notifications.actions import notify, once
from accord.notifications.models import Topic
from accord.organisations.models import Organisation

from . import queries
from .actions import due_after
from .models import OutputDefinition


@dataclass
class ReminderRun:
    outputs: int = 0
    sent: int = 0
    already_sent: int = 0
    reminded: list[str] = field(default_factory=list)


def due_on(definition: OutputDefinition) -> dt.date | None:
    """When the next output of ``definition`` is due: the day after the period following the
    latest one it covers (None before the first is made)."""
    latest = queries.latest_output(definition)
    if latest is None:
        return None
    return due_after(latest.periods_to, definition.collection.schedule)


def send_output_reminders(*, today: dt.date | None = None, by: Actor | None = None) -> ReminderRun:
    """Flag, once per due date, each output whose next version is overdue."""
    today = today or timezone.localdate()
    by = by or Actor.task("output-reminders")
    run = ReminderRun()
    for definition in OutputDefinition.objects.select_related("collection__owner"):
        run.outputs += 1
        due = due_on(definition)
        if due is not None and today > due:
            _once(by, run, definition, due, today)
    return run


def _readers(definition: OutputDefinition) -> list[Organisation]:
    granted = Grant.objects.filter(dataset=definition.dataset).values_list(
        "recipient_id", flat=True
    )
    return list(Organisation.objects.filter(pk__in=set(granted)).order_by("name"))


def _once(
    by: Actor, run: ReminderRun, definition: OutputDefinition, due: dt.date, today: dt.date
) -> None:
    owner = definition.collection.owner
    readers = _readers(definition)
    when = f"{due:%-d %B %Y}"
    late = (today - due).days
    link = reverse("web:output_dashboard", args=[definition.pk])

    def send() -> None:
        notify(
            by=by,
            organisation=owner,
            topic=Topic.OUTPUT_OVERDUE,
            subject=f"Overdue: {definition.name}"[:200],
            body=(
                f"“{definition.name}” should have been updated by {when} ({late} day(s) ago) "
                f"and has not been. It is made when a return to {definition.collection.name} "
                "is accepted: check whether returns are arriving, and tell the organisations "
                "it is returned to."
            ),
            link=link,
            roles=(),
        )
        for reader in readers:
            notify(
                by=by,
                organisation=reader,
                topic=Topic.OUTPUT_OVERDUE,
                subject=f"Late: {definition.name} from {owner.name}"[:200],
                body=(
                    f"“{definition.name}”, which {owner.name} returns to you, was due to be "
                    f"updated by {when} and has not been. {owner.name} has been told."
                ),
                link=link,
                roles=(),
            )
        record(
            by=by,
            action="output.reminded",
            target=f"output_definition:{definition.pk}",
            subject_organisation_id=str(owner.pk),
            details={"due_on": due.isoformat(), "told": [str(o.pk) for o in (owner, *readers)]},
        )

    if not once(f"output:{definition.pk}:{due:%Y%m%d}", send):
        run.already_sent += 1
        return
    run.sent += 1
    run.reminded.append(f"{definition.name} ({owner.name}), due {when}")
