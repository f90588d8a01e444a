"""Writing to the vault: storing an object and crypto-shredding it.

``store`` encrypts and writes the blob and the wrapped key *before* its database transaction,
so no database lock is held while a large object streams to disk; the row and its audit event
then commit together in one short transaction. If anything fails — the source, the disk, the
database — the blob and key file are removed before the error is raised, so a failed store
leaves nothing behind. (A process killed mid-way can leave an unreferenced blob or key file, or
a hidden temporary file; none is ever visible as an object, and a sweep can remove them.)

``crypto_shred`` destroys the key first, then the blob, then records the deletion: a failure
after the key is gone leaves an object that can no longer be read, never one that can.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accord.access.enums import ResourceKind
from accord.audit.actions import audited, record
from accord.audit.actor import Actor
from accord.audit.exceptions import Refused
from accord.organisations.models import Organisation

from . import keys
from .backends import Backend, default_backend
from .crypto import PlaintextTally, encrypt_stream
from .enums import DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE
from .models import VaultObject
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
) -> VaultObject:
    """Encrypt ``source`` under a fresh data key into a new vault object owned by
    ``organisation``, and record ``vault.object.stored`` in the same transaction as its row."""
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
    backend = backend or default_backend()
    obj = VaultObject(
        id=uuid.uuid4(),
        organisation=organisation,
        kind=kind,
        name=name,
        description=description,
        version=1,
        chunk_size=chunk_size,
        created_by=by.ref,
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
            record(
                by=by,
                action="vault.object.stored",
                target=f"{kind.value}:{obj.id}",
                subject_organisation_id=str(organisation.pk),
                details=_facts(obj),
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
    }


@audited("vault.object.shredded")
def crypto_shred(*, by: Actor, obj: VaultObject, reason: str) -> VaultObject:
    """Destroy the object's key and blob, mark it deleted, and record what was deleted."""
    reason = " ".join(str(reason).split())
    if not reason:
        raise ValidationError("Say why the object is being deleted.")
    locked = VaultObject.objects.select_for_update().select_related("organisation").get(pk=obj.pk)
    if locked.deleted_at is not None:
        raise Refused(deleted_message(locked), target=f"{locked.kind}:{locked.id}")
    key_existed = keys.destroy_data_key(locked.id)
    blob_existed = default_backend().delete(locked.blob_key)
    locked.deleted_at = timezone.now()
    locked.deleted_by = by.ref
    locked.deletion_reason = reason
    locked.save(update_fields=["deleted_at", "deleted_by", "deletion_reason"])
    record(
        by=by,
        action="vault.object.shredded",
        target=f"{locked.kind}:{locked.id}",
        reason=reason,
        subject_organisation_id=str(locked.organisation_id),
        details={
            **_facts(locked),
            "deleted_at": locked.deleted_at.isoformat(),
            "key_destroyed": key_existed,
            "blob_deleted": blob_existed,
        },
    )
    obj.deleted_at, obj.deleted_by = locked.deleted_at, locked.deleted_by
    obj.deletion_reason = reason
    return obj
