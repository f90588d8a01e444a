"""Reminders of returns: before the deadline to those who have not sent one, and after it to
those who are late and to the organisation that runs the collection. Each reminder is sent once
(``SentReminder``), so the daily run can be repeated safely."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.notifications.actions import notify
from accord.notifications.models import SentReminder, Topic

from . import queries
from .models import Collection

# How long before the deadline the "due" reminder goes.
DUE_NOTICE = dt.timedelta(hours=24)
# How many recent periods are looked at for late returns.
LOOK_BACK = 3
ROLES = ("data_officer", "analyst", "organisation_admin", "information_asset_owner")


@dataclass
class ReminderRun:
    due: int = 0
    late: int = 0
    already_sent: int = 0
    collections: list[str] = field(default_factory=list)


def send_return_reminders(
    *, now: dt.datetime | None = None, by: Actor | None = None
) -> ReminderRun:
    now = now or timezone.now()
    by = by or Actor.task("return-reminders")
    run = ReminderRun()
    for collection in Collection.objects.select_related("owner"):
        run.collections.append(collection.name)
        for period in queries.recent_periods(collection, now.date(), LOOK_BACK):
            status = queries.period_status(collection, period, now)
            for slot in status.slots:
                if slot.status == "late":
                    _once(by, run, collection, status, slot.organisation, "late")
                elif (
                    slot.status in ("due", "rejected")
                    and status.deadline - DUE_NOTICE <= now < status.deadline
                ):
                    _once(by, run, collection, status, slot.organisation, "due")
    return run


def _once(
    by: Actor,
    run: ReminderRun,
    collection: Collection,
    status: queries.PeriodStatus,
    organisation: object,
    kind: str,
) -> None:
    from accord.organisations.models import Organisation

    assert isinstance(organisation, Organisation)
    key = f"return:{collection.pk}:{organisation.pk}:{status.period.isoformat()}:{kind}"
    if SentReminder.objects.filter(key=key).exists():
        run.already_sent += 1
        return
    deadline = timezone.localtime(status.deadline)
    when = f"{deadline:%H:%M} on {deadline.day} {deadline:%B %Y}"
    link = f"/collections/{collection.pk}/"
    try:
        with transaction.atomic():
            SentReminder.objects.create(key=key)
            if kind == "due":
                notify(
                    by=by,
                    organisation=organisation,
                    topic=Topic.RETURN_DUE,
                    subject=f"Return due: {collection.name}, {status.label}",
                    body=f"Your return to {collection.owner.name} for {status.label} is due by "
                    f"{when}. Nothing has been accepted from {organisation.name} yet.",
                    link=link,
                    roles=ROLES,
                )
            else:
                notify(
                    by=by,
                    organisation=organisation,
                    topic=Topic.RETURN_LATE,
                    subject=f"Return late: {collection.name}, {status.label}",
                    body=f"Your return to {collection.owner.name} for {status.label} was due by "
                    f"{when} and nothing has been accepted from {organisation.name}. Send it "
                    "as soon as you can.",
                    link=link,
                    roles=ROLES,
                )
                notify(
                    by=by,
                    organisation=collection.owner,
                    topic=Topic.RETURN_LATE,
                    subject=f"{organisation.name} is late: {collection.name}, {status.label}",
                    body=f"Nothing has been accepted from {organisation.name} for "
                    f"{status.label}; it was due by {when}. They have been reminded.",
                    link=link,
                    roles=ROLES,
                )
            record(
                by=by,
                action="collection.reminded",
                target=f"collection:{collection.pk}",
                subject_organisation_id=str(organisation.pk),
                details={
                    "organisation": organisation.name,
                    "period": status.period.isoformat(),
                    "kind": kind,
                },
            )
    except IntegrityError:
        run.already_sent += 1
        return
    if kind == "due":
        run.due += 1
    else:
        run.late += 1
