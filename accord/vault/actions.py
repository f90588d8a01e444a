"""Writing to the vault: storing an object and crypto-shredding it.

``store`` encrypts and writes the blob and the wrapped key *before* its database transaction,
so no database lock is held while a large object streams to disk; the row and its audit event
then commit together in one short transaction. If anything fails — the source, the disk, the
database — the blob and key file are removed before the error is raised, so a failed store
leaves nothing behind. (A process killed mid-way can leave an unreferenced blob or key file, or
a hidden temporary file; none is ever visible as an object, and a sweep can remove them.)

``crypto_shred`` destroys the key first, then the blob, then records the deletion: a failure
after the key is gone leaves an object that can no longer be read, never one that can. Its audit
event is the deletion certificate: what was deleted, when, by whom and under which rule. An
object under legal hold (``place_legal_hold``) is never shredded.

Every object has a retention deadline and the rule that set it (``retention=``, see
``deadlines``); an object derived from others records its sources and takes the earliest of its
own deadline and theirs.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accord.access.enums import ResourceKind
from accord.audit.actions import audited, record
from accord.audit.actor import Actor
from accord.audit.exceptions import Refused
from accord.audit.models import AuditEvent
from accord.notifications.actions import notify
from accord.notifications.models import Topic
from accord.organisations.models import Organisation

from . import keys
from .backends import Backend, default_backend
from .crypto import PlaintextTally, encrypt_stream
from .deadlines import Deadline, Retention, deadline_for, describe
from .enums import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_RETENTION,
    HOLD_PLACED_ACTION,
    HOLD_RELEASED_ACTION,
    MAX_CHUNK_SIZE,
    MIN_CHUNK_SIZE,
)
from .models import DeletionCertificate, VaultObject, VaultObjectSource
from .queries import deleted_message

_READ_PIECE = 1024 * 1024


def _pieces(source: IO[bytes] | Iterable[bytes]) -> Iterator[bytes]:
    """A binary file object read piece by piece, or an iterable of bytes as it comes."""
    read = getattr(source, "read", None)
    if callable(read):
        while piece := read(_READ_PIECE):
            if not isinstance(piece, bytes | bytearray | memoryview):
                raise TypeError("The vault stores bytes: open the file in binary mode ('rb').")
            yield bytes(piece)
        return
    if isinstance(source, bytes | bytearray | memoryview | str):
        raise TypeError("Give the vault a binary file object or an iterable of bytes chunks.")
    yield from source


def store(
    *,
    by: Actor,
    organisation: Organisation,
    kind: ResourceKind | str,
    name: str,
    source: IO[bytes] | Iterable[bytes],
    description: str = "",
    chunk_size: int | None = None,
    backend: Backend | None = None,
    retention: Retention | None = None,
    retention_basis: str = "",
    sources: Iterable[VaultObject] = (),
    received_at: datetime | None = None,
    dataset: str = "",
) -> VaultObject:
    """Encrypt ``source`` under a fresh data key into a new vault object owned by
    ``organisation``, and record ``vault.object.stored`` in the same transaction as its row.

    ``retention`` is an ISO 8601 duration counted from now (``"P1Y"``, ``"P6M"``, ``"P30D"``)
    or an end date; ``retention_basis`` says where it comes from (an agreement's clause). Left
    out, the standard default applies (``VAULT_DEFAULT_RETENTION``, P1Y). ``sources`` are the
    objects this one was derived from: it is recorded as made from them, and its deadline is the
    earliest of its own and theirs. ``received_at`` is when the data was first received, for a
    holding moved into Accord from elsewhere: a retention period counts from it, so moving data
    never extends how long it is kept (its deadline may already have passed, and the next
    retention run deletes it). ``dataset`` names the data standard (slug) the records follow,
    so the decision point can match the object to the agreements that share it. Bad retention,
    sources or ``received_at`` raise ``ValidationError`` before anything is written."""
    if not isinstance(by, Actor):
        raise TypeError("store needs by=Actor(...)")
    kind = ResourceKind(kind)
    name = " ".join(str(name).split())
    if not name or len(name) > 200:
        raise ValidationError("Give the object a name of 1 to 200 characters.")
    if chunk_size is None:
        chunk_size = int(getattr(settings, "VAULT_CHUNK_SIZE", DEFAULT_CHUNK_SIZE))
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"The chunk size must be {MIN_CHUNK_SIZE} to {MAX_CHUNK_SIZE} bytes.")
    created_at = timezone.now()
    if received_at is not None and (timezone.is_naive(received_at) or received_at > created_at):
        raise ValidationError(
            "Give when the data was received as a date and time with a time zone, not in the "
            "future."
        )
    if retention is None:
        retention = str(getattr(settings, "VAULT_DEFAULT_RETENTION", DEFAULT_RETENTION))
        retention_basis = retention_basis or "standard default"
    source_objects = _sources(sources)
    own = deadline_for(retention, basis=retention_basis, start=received_at or created_at)
    if received_at is not None:
        own = Deadline(
            at=own.at,
            rule=f"{own.rule} (counted from receipt on {timezone.localdate(received_at)})",
        )
    deadline = _earliest(own, source_objects)
    backend = backend or default_backend()
    obj = VaultObject(
        id=uuid.uuid4(),
        organisation=organisation,
        kind=kind,
        name=name,
        description=description,
        dataset=dataset,
        version=1,
        chunk_size=chunk_size,
        created_at=created_at,
        received_at=received_at,
        created_by=by.ref,
        retention_deadline=deadline.at,
        retention_rule=deadline.rule,
    )
    data_key = keys.new_data_key()
    tally = PlaintextTally()
    try:
        keys.store_data_key(obj.id, obj.version, data_key)
        backend.write(
            obj.blob_key,
            encrypt_stream(
                _pieces(source),
                data_key=data_key,
                object_id=obj.id,
                version=obj.version,
                chunk_size=chunk_size,
                tally=tally,
            ),
        )
        obj.sha256, obj.size = tally.sha256.hexdigest(), tally.size
        with transaction.atomic():
            obj.save(force_insert=True)
            VaultObjectSource.objects.bulk_create(
                VaultObjectSource(derived=obj, source=item) for item in source_objects
            )
            record(
                by=by,
                action="vault.object.stored",
                target=f"{kind.value}:{obj.id}",
                subject_organisation_id=str(organisation.pk),
                details={
                    **_facts(obj),
                    "sources": [str(item.id) for item in source_objects],
                },
            )
    except BaseException:
        # The blob key and key file name are this new object's alone, so removing them can
        # only remove what this call wrote.
        with contextlib.suppress(Exception):
            backend.delete(obj.blob_key)
        with contextlib.suppress(Exception):
            keys.destroy_data_key(obj.id)
        raise
    return obj


def _sources(sources: Iterable[VaultObject]) -> list[VaultObject]:
    """The source objects as stored now (their current deadlines), refusing deleted ones."""
    if isinstance(sources, VaultObject):
        sources = [sources]
    wanted = []
    for item in sources:
        if not isinstance(item, VaultObject):
            raise ValidationError("Sources must be vault objects.")
        wanted.append(item.pk)
    found = {
        item.pk: item
        for item in VaultObject.objects.select_related("organisation").filter(pk__in=wanted)
    }
    missing = [str(pk) for pk in wanted if pk not in found]
    if missing:
        raise ValidationError(f"These source objects are not in the vault: {', '.join(missing)}.")
    unique = list({pk: found[pk] for pk in wanted}.values())
    for item in unique:
        if item.deleted_at is not None:
            raise ValidationError(
                f"Source object “{item.name}” ({item.id}) has been deleted, so nothing can be "
                "derived from it."
            )
    return unique


def _earliest(own: Deadline, sources: list[VaultObject]) -> Deadline:
    """The object's own deadline, unless a source must go sooner: then the source's, and the
    rule says which source and under which of its rules."""
    dated = [item for item in sources if item.retention_deadline is not None]
    if not dated:
        return own
    first = min(dated, key=lambda item: (item.retention_deadline, str(item.id)))
    assert first.retention_deadline is not None
    if first.retention_deadline >= own.at:
        return own
    return Deadline(
        at=first.retention_deadline,
        rule=(
            f"{own.rule}; brought forward to {describe(first.retention_deadline)} by source "
            f"“{first.name}” ({first.id}) under {first.retention_rule or 'its deadline'}"
        ),
    )


def _facts(obj: VaultObject) -> dict[str, object]:
    return {
        "object_id": str(obj.id),
        "name": obj.name,
        "kind": obj.kind,
        "organisation_id": str(obj.organisation_id),
        "organisation_name": obj.organisation.name,
        "version": obj.version,
        "size": obj.size,
        "sha256": obj.sha256,
        "retention_rule": obj.retention_rule,
        "retention_deadline": (
            obj.retention_deadline.isoformat() if obj.retention_deadline else None
        ),
        "received_at": obj.received_at.isoformat() if obj.received_at else None,
    }


@audited("vault.object.shredded")
def crypto_shred(*, by: Actor, obj: VaultObject, reason: str) -> VaultObject:
    """Destroy the object's key and blob, mark it deleted, and record what was deleted.

    The audit event is the deletion certificate: the object (id, name, kind, organisation,
    SHA-256, size), when it was deleted and by whom, and the retention rule and deadline it was
    under. An object under legal hold is refused."""
    reason = " ".join(str(reason).split())
    if not reason:
        raise ValidationError("Say why the object is being deleted.")
    locked = VaultObject.objects.select_for_update().select_related("organisation").get(pk=obj.pk)
    if locked.deleted_at is not None:
        raise Refused(deleted_message(locked), target=f"{locked.kind}:{locked.id}")
    if locked.is_held:
        raise Refused(
            f"Vault object “{locked.name}” ({locked.id}) is under legal hold "
            f"({locked.legal_hold_reason}), so it cannot be deleted until the hold is released.",
            target=f"{locked.kind}:{locked.id}",
        )
    key_existed = keys.destroy_data_key(locked.id)
    blob_existed = default_backend().delete(locked.blob_key)
    locked.deleted_at = timezone.now()
    locked.deleted_by = by.ref
    locked.deletion_reason = reason
    locked.save(update_fields=["deleted_at", "deleted_by", "deletion_reason"])
    event, concerned = certify_deletion(
        by=by,
        obj=locked,
        action="vault.object.shredded",
        reason=reason,
        details={
            "deleted_at": locked.deleted_at.isoformat(),
            "deleted_by": by.ref,
            "key_destroyed": key_existed,
            "blob_deleted": blob_existed,
        },
    )
    link = reverse("web:deletion_certificate", args=[locked.id])
    when = describe(locked.deleted_at)
    for organisation in concerned:
        whose = (
            "your" if organisation.pk == locked.organisation_id else locked.organisation.name + "'s"
        )
        notify(
            by=by,
            organisation=organisation,
            topic=Topic.DATA_DELETED,
            subject=f"Data deleted: {locked.name}",
            body=(
                f"Accord deleted {whose} stored data “{locked.name}” on {when}, because "
                f"{reason}. Its key was destroyed, so it cannot be recovered. The deletion "
                f"certificate is audit event {event.seq}."
            ),
            link=link,
        )
    obj.deleted_at, obj.deleted_by = locked.deleted_at, locked.deleted_by
    obj.deletion_reason = reason
    return obj


def certify_deletion(
    *, by: Actor, obj: VaultObject, action: str, reason: str, details: dict[str, object]
) -> tuple[AuditEvent, list[Organisation]]:
    """Record the deletion of ``obj`` (already marked deleted) as ``action`` and point a
    certificate row at that event for every organisation concerned. The event, with the
    object's facts and ``details``, is the certificate."""
    assert obj.deleted_at is not None
    concerned = organisations_concerned(obj)
    event = record(
        by=by,
        action=action,
        target=f"{obj.kind}:{obj.id}",
        reason=reason,
        subject_organisation_id=str(obj.organisation_id),
        details={
            **_facts(obj),
            **details,
            "organisations_concerned": [{"id": str(o.pk), "name": o.name} for o in concerned],
        },
    )
    certificate = DeletionCertificate.objects.create(
        object=obj, audit_seq=event.seq, deleted_at=obj.deleted_at
    )
    certificate.organisations.set(concerned)
    return event, concerned


def organisations_concerned(obj: VaultObject) -> list[Organisation]:
    """The object's controller and the controllers of everything it was derived from, at any
    remove: the organisations a deletion certificate concerns. Controller first."""
    found: dict[int, Organisation] = {obj.organisation_id: obj.organisation}
    frontier = [obj.pk]
    seen = set(frontier)
    while frontier:
        links = VaultObjectSource.objects.filter(derived_id__in=frontier).select_related(
            "source__organisation"
        )
        frontier = []
        for link in links:
            found.setdefault(link.source.organisation_id, link.source.organisation)
            if link.source_id not in seen:
                seen.add(link.source_id)
                frontier.append(link.source_id)
    first, *rest = found.values()
    return [first, *sorted(rest, key=lambda o: o.name)]


def _hold_reason(reason: str, doing: str) -> str:
    reason = " ".join(str(reason).split())
    if not reason:
        raise ValidationError(f"Say why the legal hold is being {doing}.")
    return reason


@audited(HOLD_PLACED_ACTION)
def place_legal_hold(*, by: Actor, obj: VaultObject, reason: str) -> VaultObject:
    """Block the object's deletion, by retention or by hand, until the hold is released."""
    reason = _hold_reason(reason, "placed")
    locked = VaultObject.objects.select_for_update().select_related("organisation").get(pk=obj.pk)
    target = f"{locked.kind}:{locked.id}"
    if locked.deleted_at is not None:
        raise Refused(deleted_message(locked), target=target)
    if locked.is_held:
        raise Refused(
            f"Vault object “{locked.name}” ({locked.id}) is already under legal hold: "
            f"{locked.legal_hold_reason}.",
            target=target,
        )
    locked.legal_hold_at, locked.legal_hold_by = timezone.now(), by.ref
    locked.legal_hold_reason = reason
    locked.save(update_fields=["legal_hold_at", "legal_hold_by", "legal_hold_reason"])
    record(
        by=by,
        action=HOLD_PLACED_ACTION,
        target=target,
        reason=reason,
        subject_organisation_id=str(locked.organisation_id),
        details=_facts(locked),
    )
    obj.legal_hold_at, obj.legal_hold_by = locked.legal_hold_at, locked.legal_hold_by
    obj.legal_hold_reason = reason
    return obj


@audited(HOLD_RELEASED_ACTION)
def release_legal_hold(*, by: Actor, obj: VaultObject, reason: str) -> VaultObject:
    """Lift the object's legal hold; retention applies to it again from the next run."""
    reason = _hold_reason(reason, "released")
    locked = VaultObject.objects.select_for_update().select_related("organisation").get(pk=obj.pk)
    target = f"{locked.kind}:{locked.id}"
    if not locked.is_held:
        raise Refused(
            f"Vault object “{locked.name}” ({locked.id}) is not under legal hold.", target=target
        )
    assert locked.legal_hold_at is not None
    details = {
        **_facts(locked),
        "hold_reason": locked.legal_hold_reason,
        "held_since": locked.legal_hold_at.isoformat(),
        "held_by": locked.legal_hold_by,
    }
    locked.legal_hold_at, locked.legal_hold_by, locked.legal_hold_reason = None, "", ""
    locked.save(update_fields=["legal_hold_at", "legal_hold_by", "legal_hold_reason"])
    record(
        by=by,
        action=HOLD_RELEASED_ACTION,
        target=target,
        reason=reason,
        subject_organisation_id=str(locked.organisation_id),
        details=details,
    )
    obj.legal_hold_at, obj.legal_hold_by, obj.legal_hold_reason = None, "", ""
    return obj
