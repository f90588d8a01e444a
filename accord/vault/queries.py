"""Reading the vault. Every read takes an access decision and checks it first.

``open_object`` returns a ``VaultReader``: iterate it for plaintext chunks (memory bounded by the
chunk size for any object size). Each chunk is authenticated before it is handed out, but the
whole object's SHA-256 can only be checked at the end, so **treat the data as untrusted until
the iteration finishes without an exception**: the final chunk is withheld, and
``ChecksumMismatch`` raised instead, if the object as a whole is not what was stored. For small
objects ``read_all()`` gives the verified bytes in one go.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.db.models import QuerySet
from django.utils import timezone

from accord.access.decisions import Decision, Resource
from accord.access.enums import Action, ResourceKind
from accord.audit.actor import Actor
from accord.audit.chain import HASHED_FIELDS, timestamp
from accord.audit.checkpoints import checkpoint_document
from accord.audit.models import AuditCheckpoint, AuditEvent
from accord.organisations.models import Organisation

from . import keys
from .backends import Backend, BlobNotFound, default_backend
from .crypto import decrypt_stream
from .exceptions import (
    CertificateNotFound,
    ChecksumMismatch,
    ObjectDeleted,
    ObjectNotFound,
    ObjectTruncated,
)
from .models import DeletionCertificate, VaultObject, VaultObjectSource

# read_all() refuses objects larger than this: stream them instead.
READ_ALL_LIMIT = 64 * 1024 * 1024


# How far back through derived-from links the controllers of derived data are looked for.
SOURCE_DEPTH = 6


@dataclass(frozen=True)
class Lineage:
    """Whose data an object was made from, however indirectly, and which datasets each gave."""

    controllers: tuple[str, ...]
    datasets: tuple[tuple[str, str], ...]  # (controller, dataset) pairs
    deleted: bool  # whether any of it has been deleted since


def _lineage(obj: VaultObject) -> Lineage:
    controllers: set[str] = set()
    datasets: set[tuple[str, str]] = set()
    deleted = False
    frontier = [obj.pk]
    seen = set(frontier)
    for _ in range(SOURCE_DEPTH):
        rows = list(
            VaultObjectSource.objects.filter(derived_id__in=frontier).values_list(
                "source_id", "source__organisation_id", "source__deleted_at", "source__dataset"
            )
        )
        frontier = [source for source, _, _, _ in rows if source not in seen]
        seen.update(frontier)
        controllers.update(str(organisation) for _, organisation, _, _ in rows)
        datasets.update((str(org), dataset) for _, org, _, dataset in rows if dataset)
        deleted = deleted or any(gone is not None for _, _, gone, _ in rows)
        if not frontier:
            break
    return Lineage(tuple(sorted(controllers)), tuple(sorted(datasets)), deleted)


def resource_for(obj: VaultObject, fields: tuple[str, ...] = ()) -> Resource:
    """The object as the decision point sees it: what it is, whose it is, whose data (and
    which datasets) it was made from, and whether it may still be read."""
    lineage = _lineage(obj)
    return Resource(
        kind=ResourceKind(obj.kind),
        id=str(obj.id),
        owner_organisation_id=str(obj.organisation_id),
        fields=fields,
        description=obj.name,
        dataset=obj.dataset,
        sources=lineage.controllers,
        source_datasets=lineage.datasets,
        deleted=obj.deleted_at is not None,
        sources_deleted=lineage.deleted,
        retention_deadline=obj.retention_deadline,
    )


def get_object(object_id: uuid.UUID | str) -> VaultObject:
    try:
        return VaultObject.objects.get(pk=uuid.UUID(str(object_id)))
    except (VaultObject.DoesNotExist, ValueError) as exc:
        raise ObjectNotFound(
            f"There is no vault object {object_id}.", object_id=str(object_id)
        ) from exc


def deleted_message(obj: VaultObject) -> str:
    assert obj.deleted_at is not None
    when = timezone.localtime(obj.deleted_at).strftime("%-d %B %Y at %H:%M %Z")
    reason = obj.deletion_reason or "no reason was recorded"
    return (
        f"Vault object “{obj.name}” ({obj.id}) was deleted on {when}: {reason}. "
        "Its key was destroyed, so its data cannot be recovered."
    )


def open_object(
    object_id: uuid.UUID | str,
    *,
    by: Actor,
    decision: Decision,
    action: Action | str = Action.VIEW,
    backend: Backend | None = None,
) -> VaultReader:
    """Check ``decision`` permits ``by`` to take ``action`` on this object now, then open it.

    Raises ``AccessDenied`` (nothing is read), ``ObjectNotFound``, ``ObjectDeleted``, or — while
    reading — a ``VaultIntegrityError`` subclass naming what is wrong.
    """
    obj = get_object(object_id)
    decision.require(actor=by, action=action, resource=resource_for(obj, decision.resource.fields))
    if obj.deleted_at is not None:
        raise ObjectDeleted(
            deleted_message(obj),
            object_id=str(obj.id),
            deleted_at=obj.deleted_at,
            reason=obj.deletion_reason,
        )
    data_key = keys.load_data_key(obj.id, obj.version)
    return VaultReader(obj, data_key, backend or default_backend())


class VaultReader:
    """The plaintext of one object, decrypted and checked as it streams. Iterate it once."""

    def __init__(self, obj: VaultObject, data_key: bytes, backend: Backend) -> None:
        self.object = obj
        self._data_key = data_key
        self._backend = backend
        self._used = False

    def __iter__(self) -> Iterator[bytes]:
        if self._used:
            raise RuntimeError("A vault reader can be iterated only once; open the object again.")
        self._used = True
        return self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        obj = self.object
        name = str(obj.id)
        try:
            stream: BinaryIO = self._backend.open(obj.blob_key)
        except BlobNotFound as exc:
            raise ObjectTruncated(
                f"Vault object {name} has no stored data: its blob is missing from the store.",
                object_id=name,
            ) from exc
        digest = hashlib.sha256()
        seen = 0
        with stream:
            pending: bytes | None = None
            for chunk in decrypt_stream(
                stream,
                data_key=self._data_key,
                object_id=obj.id,
                version=obj.version,
                chunk_size=obj.chunk_size,
                size=obj.size,
            ):
                # Hold one chunk back so the final one is only given out once all is verified.
                if pending is not None:
                    yield pending
                digest.update(chunk)
                seen += len(chunk)
                pending = chunk
            if seen != obj.size or digest.hexdigest() != obj.sha256:
                raise ChecksumMismatch(
                    f"Vault object “{obj.name}” ({name}) is not the data that was stored: its "
                    f"SHA-256 or size differs from the record ({seen} bytes read, {obj.size} "
                    "stored). Discard everything read from it.",
                    object_id=name,
                )
            if pending is not None:
                yield pending

    def read_all(self, *, limit: int = READ_ALL_LIMIT) -> bytes:
        """The whole object, verified, for small objects only."""
        if self.object.size > limit:
            raise ValueError(
                f"Vault object {self.object.id} is {self.object.size} bytes, over the "
                f"{limit}-byte limit for reading whole: stream it instead."
            )
        return b"".join(self)


# Deletion certificates ------------------------------------------------------------------------


def certificates_for(organisation: Organisation) -> QuerySet[DeletionCertificate]:
    """The deletion certificates that concern ``organisation``, newest first."""
    return DeletionCertificate.objects.filter(organisations=organisation).select_related(
        "object", "object__organisation"
    )


def certificate_for(organisation: Organisation, object_id: uuid.UUID | str) -> DeletionCertificate:
    """The certificate of the deleted object ``object_id``, if it concerns ``organisation``.

    Raises ``CertificateNotFound`` alike whether there is no such certificate or it concerns
    other organisations only, so the answer reveals nothing about others' data."""
    try:
        return certificates_for(organisation).get(object_id=uuid.UUID(str(object_id)))
    except (DeletionCertificate.DoesNotExist, ValueError) as exc:
        raise CertificateNotFound(str(object_id)) from exc


def certificate_event(certificate: DeletionCertificate) -> AuditEvent:
    return AuditEvent.objects.get(seq=certificate.audit_seq)


def certificate_document(certificate: DeletionCertificate) -> dict[str, Any]:
    """The certificate as a self-contained document: the audit event exactly as it was hashed,
    its hash, and the newest signed checkpoint that covers it (if one has been signed yet), so
    anyone can check it against the chain and the published public key."""
    event = certificate_event(certificate)
    fields = {name: getattr(event, name) for name in HASHED_FIELDS}
    fields["occurred_at"] = timestamp(event.occurred_at)
    covering = AuditCheckpoint.objects.filter(seq__gte=event.seq).order_by("seq").first()
    return {
        "document": "Accord deletion certificate",
        "format_version": 1,
        "object_id": str(certificate.object_id),
        "audit_event": fields,
        "audit_event_hash": event.hash,
        "hash_method": "SHA-256 over the RFC 8785 canonical JSON of audit_event",
        "covering_checkpoint": checkpoint_document(covering) if covering else None,
    }
