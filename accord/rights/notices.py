"""What every change to a person's data does alike: destroy a file whole, with its deletion
certificate, and tell a recipient to make the same change in its copy, with a notice tracked
until it confirms."""

from __future__ import annotations

from django.urls import reverse

from accord.audit.actor import Actor
from accord.notifications.actions import notify
from accord.notifications.models import Topic
from accord.organisations.models import Organisation
from accord.vault import actions as vault
from accord.vault.models import VaultObject

from .models import ChangeKind, SubjectChange, SubjectChangeNotice
from .search import Recipient


def destroy(obj: VaultObject | None, what: str, *, task: Actor, why: str) -> dict | None:
    """Crypto-shred ``obj`` unless it is gone already; what was destroyed, for the record."""
    if obj is None or obj.deleted_at is not None:
        return None
    vault.crypto_shred(by=task, obj=obj, reason=why)
    return {"what": what, "id": str(obj.pk)}


def _asked(change: SubjectChange) -> tuple[str, str, str, Topic]:
    """(verb, whom, what was done, topic) for a notice of ``change``."""
    if change.kind == ChangeKind.ERASURE:
        done = "erased one person's data where the law requires it"
        return "Erase", "one person", done, Topic.DATA_DELETED
    if change.kind == ChangeKind.REPLACEMENT:
        records = f"{change.rows:,} record{'s' if change.rows != 1 else ''}"
        done = f"corrected or removed {records} by sending a new return"
        return "Update", records, done, Topic.DATA_CORRECTED
    done = f"corrected one person's {', '.join(change.fields)}"
    return "Correct", "one person", done, Topic.DATA_CORRECTED


def tell_recipient(
    by: Actor, change: SubjectChange, organisation: Organisation, recipient: Recipient
) -> SubjectChangeNotice | None:
    """Record a notice to ``recipient`` and notify it (None for a recipient outside Accord)."""
    if recipient.organisation_id is None:
        return None
    notice = SubjectChangeNotice.objects.create(
        change=change,
        recipient_id=recipient.organisation_id,
        how=recipient.how,
        reference=recipient.detail[:300],
    )
    verb, whom, done, topic = _asked(change)
    notify(
        by=by,
        organisation=Organisation.objects.get(pk=recipient.organisation_id),
        topic=topic,
        subject=f"{verb} {whom} in data {organisation.name} shared with you",
        body=(
            f"{organisation.name} has {done} ({change.reason}). You received the data: "
            f"{recipient.detail}. {verb} {whom} in every copy you hold, and confirm in Accord "
            "that you have."
        ),
        link=reverse("web:subject_change_notices"),
    )
    return notice
