"""Copies released outside Accord, and their recipients' deletion attestations.

When a recipient downloads an extract, the extracts feature calls ``record_release``: the copy
must be deleted by a deadline (the extract's own retention deadline, unless the agreement sets
an earlier one). The recipient's DPO, information asset owner or admin then attests that every
copy has been deleted (``attest_deletion``), which goes into the audit chain.
``send_reminders`` — run with the retention task — reminds recipients ``REMINDER_DAYS`` before
a deadline, and after it flags the copy overdue to the recipient and to the controller, weekly
until it is attested.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accord.audit.actions import audited, record
from accord.audit.actor import Actor
from accord.audit.exceptions import Refused
from accord.notifications.actions import notify
from accord.notifications.models import Topic
from accord.organisations.models import Organisation

from .deadlines import describe
from .models import ExtractCopy, VaultObject

REMINDER_DAYS = 14
REPEAT_OVERDUE_DAYS = 7
ACTOR_NAME = "retention"


def _target(copy: ExtractCopy) -> str:
    return f"extract_copy:{copy.pk}"


@audited("vault.copy.released")
def record_release(
    *, by: Actor, obj: VaultObject, recipient: Organisation, delete_by: datetime | None = None
) -> ExtractCopy:
    """Record that ``recipient`` now holds a copy of ``obj`` outside Accord, to be deleted by
    ``delete_by`` (at the latest the object's own retention deadline)."""
    if obj.deleted_at is not None:
        raise ValidationError(f"“{obj.name}” has been deleted, so no copy of it can be released.")
    deadline = obj.retention_deadline
    if delete_by is not None:
        if timezone.is_naive(delete_by) or delete_by <= timezone.now():
            raise ValidationError("Give a deletion deadline in the future, with a time zone.")
        deadline = min(delete_by, deadline) if deadline else delete_by
    if deadline is None:
        raise ValidationError(f"“{obj.name}” has no retention deadline to delete copies by.")
    copy = ExtractCopy.objects.create(
        object=obj, recipient=recipient, released_by=by.ref, delete_by=deadline
    )
    record(
        by=by,
        action="vault.copy.released",
        target=_target(copy),
        subject_organisation_id=str(obj.organisation_id),
        details={
            "object_id": str(obj.id),
            "name": obj.name,
            "recipient_id": str(recipient.pk),
            "recipient_name": recipient.name,
            "delete_by": deadline.isoformat(),
        },
    )
    return copy


@audited("vault.copy.deletion_attested")
def attest_deletion(*, by: Actor, copy: ExtractCopy, statement: str) -> ExtractCopy:
    """The recipient says every copy it held is deleted. Only the recipient may attest."""
    statement = " ".join(str(statement).split())
    if not statement:
        raise ValidationError("Say how the copies were deleted.")
    locked = ExtractCopy.objects.select_for_update().select_related("object").get(pk=copy.pk)
    if by.organisation_id != str(locked.recipient_id):
        raise Refused(
            "Only the organisation holding the copy can attest that it was deleted.",
            target=_target(locked),
        )
    if locked.is_attested:
        raise Refused("Deletion of this copy has already been attested.", target=_target(locked))
    now = timezone.now()
    locked.attested_at, locked.attested_by, locked.attested_by_label = now, by.ref, by.label
    locked.statement = statement
    locked.save(update_fields=["attested_at", "attested_by", "attested_by_label", "statement"])
    record(
        by=by,
        action="vault.copy.deletion_attested",
        target=_target(locked),
        reason=statement,
        subject_organisation_id=str(locked.object.organisation_id),
        details={
            "object_id": str(locked.object_id),
            "name": locked.object.name,
            "recipient_id": str(locked.recipient_id),
            "delete_by": locked.delete_by.isoformat(),
            "on_time": now <= locked.delete_by,
        },
    )
    return locked


def copies_held_by(organisation: Organisation) -> QuerySet[ExtractCopy]:
    return ExtractCopy.objects.filter(recipient=organisation).select_related(
        "object", "object__organisation"
    )


def copies_of_data_of(organisation: Organisation) -> QuerySet[ExtractCopy]:
    return ExtractCopy.objects.filter(object__organisation=organisation).select_related(
        "object", "recipient"
    )


@dataclass
class ReminderReport:
    reminded: int = 0
    overdue: int = 0


def send_reminders(*, now: datetime | None = None) -> ReminderReport:
    """Remind recipients of copies due soon; flag overdue ones to recipient and controller."""
    now = now or timezone.now()
    actor = Actor.task(ACTOR_NAME)
    report = ReminderReport()
    link = reverse("web:copies")
    due_soon = ExtractCopy.objects.filter(
        attested_at__isnull=True,
        delete_by__gt=now,
        delete_by__lte=now + timedelta(days=REMINDER_DAYS),
        reminded_at__isnull=True,
    ).select_related("object", "recipient")
    for copy in due_soon:
        with transaction.atomic():
            notify(
                by=actor,
                organisation=copy.recipient,
                topic=Topic.DELETION_ATTESTATION_DUE,
                subject=f"Delete your copy of “{copy.object.name}” by {describe(copy.delete_by)}",
                body=(
                    f"{copy.recipient.name} holds a copy of “{copy.object.name}” from "
                    f"{copy.object.organisation.name}. Delete every copy by "
                    f"{describe(copy.delete_by)} and then say so on Accord."
                ),
                link=link,
            )
            ExtractCopy.objects.filter(pk=copy.pk).update(reminded_at=now)
        report.reminded += 1
    overdue = ExtractCopy.objects.filter(attested_at__isnull=True, delete_by__lte=now).filter(
        Q(overdue_notified_at__isnull=True)
        | Q(overdue_notified_at__lte=now - timedelta(days=REPEAT_OVERDUE_DAYS))
    )
    for copy in overdue.select_related("object", "object__organisation", "recipient"):
        with transaction.atomic():
            for party in (copy.recipient, copy.object.organisation):
                notify(
                    by=actor,
                    organisation=party,
                    topic=Topic.DELETION_ATTESTATION_OVERDUE,
                    subject=f"Overdue: deletion of a copy of “{copy.object.name}”",
                    body=(
                        f"{copy.recipient.name} was due to delete its copy of "
                        f"“{copy.object.name}” from {copy.object.organisation.name} by "
                        f"{describe(copy.delete_by)} and has not yet said it has."
                    ),
                    link=link,
                )
            ExtractCopy.objects.filter(pk=copy.pk).update(overdue_notified_at=now)
        report.overdue += 1
    return report
