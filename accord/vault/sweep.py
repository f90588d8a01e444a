"""The orphan sweep: remove what a killed process left in the blob store and the key store.

``actions.store`` writes an object's key file and blob *before* the transaction that inserts
its row, so a process killed part-way can leave, never as a visible object:

- a hidden **temporary file** (``.NAME.HEX.tmp``) in the blob folder or the key store, from a
  write that never finished (on S3, an **unfinished multipart upload** instead);
- a **blob** with no ``VaultObject`` row;
- a **key file** with no row.

Only the key store's top level holds objects' key files. Its ``pseudonym/`` folder holds the
agreements' pseudonymisation keys, which never have a row and must outlive every object (losing
one would change every pseudonym of its agreement): the sweep never looks there, and they never
count towards a mass removal.

Blobs and key files whose row is marked deleted are also removed: crypto-shredding already
destroyed them once, so one found now was put back (a restored backup, say) and must go again.

Only leftovers older than the threshold (``older_than``, an hour by default) are touched, and
an object's files are judged together by the newest of them. A store in progress writes its key
file first and then streams the blob, which can take longer than the threshold for a large
object; its temporary file or upload keeps changing, so the key file is left alone too. Just
before removing anything the rows are read again, so an object whose row appeared meanwhile is
kept.

If most of the key store has no rows (more than ``MASS_REMOVAL`` key files, and more than half
of them), the sweep refuses (``SweepRefused``) unless forced: that is what a wrong
``DATABASE_URL`` or a restore still under way (key store restored, rows not yet committed) looks
like, and removing those key files would destroy the data for good.

Key files go first (through ``keys.destroy_data_key``, which a concurrent rotation respects),
then blobs, then temporary files; local files are removed durably (the folder is fsynced). A
real run that removed or failed to remove anything records one ``vault.orphans.swept`` audit
event with the counts and names (file names and S3 keys only, never key material). A dry run
changes and records nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from django.db import DatabaseError
from django.utils import timezone

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.audit.models import AuditEvent

from . import keys
from .backends import Backend, LocalBackend, S3Backend, default_backend
from .exceptions import VaultConfigurationError
from .files import TEMPORARY_SUFFIX, delete_durably
from .models import VaultObject

ACTION = "vault.orphans.swept"
ACTOR_NAME = "vault-sweep"
DEFAULT_OLDER_THAN = timedelta(minutes=60)
NAMES_RECORDED = 500  # per kind, in the audit event; the counts are always whole
MASS_REMOVAL = 10  # more key files than this without rows, and most of the store: refuse

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_BLOB = re.compile(rf"^(?P<id>{_UUID})\.v[0-9]+$")
_KEY_FILE = re.compile(rf"^(?P<id>{_UUID}){re.escape(keys.KEY_FILE_SUFFIX)}$")
# A hidden temporary file names the file it was becoming: ".<name>.<16 hex>.tmp".
_TEMPORARY = re.compile(rf"^\.(?P<name>.+)\.[0-9a-f]+{re.escape(TEMPORARY_SUFFIX)}$")
_ID_IN_NAME = re.compile(rf"^(?P<id>{_UUID})(?:\.|$)")


class OrphanKind(StrEnum):
    KEY_FILE = "key file"
    BLOB = "blob"
    TEMPORARY = "temporary file"
    UPLOAD = "unfinished upload"


# Removal order: keys first, as crypto-shredding does.
_ORDER = [OrphanKind.KEY_FILE, OrphanKind.BLOB, OrphanKind.TEMPORARY, OrphanKind.UPLOAD]


@dataclass(frozen=True)
class Orphan:
    """One leftover: what it is, where, how old, and why it is unreferenced."""

    kind: OrphanKind
    name: str  # its path in its store (relative), or its S3 key
    store: str  # "blob store" or "key store"
    modified: datetime
    object_id: str = ""
    why: str = ""
    remove: Callable[[], object] = field(compare=False, repr=False, default=lambda: None)

    def __str__(self) -> str:
        because = f": {self.why}" if self.why else ""
        return f"{self.kind} {self.name} in the {self.store}{because}"


@dataclass
class SweepReport:
    now: datetime
    older_than: timedelta
    dry_run: bool
    removed: list[Orphan] = field(default_factory=list)  # or, in a dry run, would be
    too_recent: list[Orphan] = field(default_factory=list)  # left for a later sweep
    failed: list[tuple[Orphan, str]] = field(default_factory=list)
    audit_seq: int | None = None
    forced: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        return {str(kind): sum(1 for item in self.removed if item.kind is kind) for kind in _ORDER}


class SweepRefused(VaultConfigurationError):
    """The key store does not look like one with a few interrupted writes; nothing was removed."""


class NotRecorded(Exception):
    """The sweep removed leftovers but could not write its audit event."""

    def __init__(self, report: SweepReport, error: DatabaseError) -> None:
        super().__init__(str(error))
        self.report = report
        self.error = error


# Finding leftovers ----------------------------------------------------------------------------


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _object_id(name: str) -> str:
    """The object id a blob, key file or temporary file name starts with, or ""."""
    temporary = _TEMPORARY.match(name)
    if temporary:
        name = temporary["name"]
    found = _ID_IN_NAME.match(name)
    return str(uuid.UUID(found["id"])) if found else ""


def _local_files(folder: Path, *, depth: int) -> Iterator[tuple[Path, datetime]]:
    """Regular files ``depth`` levels below ``folder`` with their modification times (files
    that vanish while being listed are skipped)."""
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("/".join(["*"] * depth))):
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        if path.is_file() and not path.is_symlink():
            yield path, _when(info.st_mtime)


def _local_candidates(backend: LocalBackend) -> Iterator[Orphan]:
    root = backend.root
    temporary = set(backend.leftovers())
    for path, modified in _local_files(root, depth=2):
        name = path.name
        if path in temporary:
            kind = OrphanKind.TEMPORARY
        elif _BLOB.match(name) and path.parent.name == name[:2]:
            kind = OrphanKind.BLOB
        else:
            continue  # not the vault's: left alone
        yield Orphan(
            kind=kind,
            name=str(path.relative_to(root)),
            store="blob store",
            modified=modified,
            object_id=_object_id(name),
            remove=functools.partial(delete_durably, path),
        )


def _s3_candidates(backend: S3Backend) -> Iterator[Orphan]:
    client, bucket, prefix = backend.client, backend.bucket, backend.prefix
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = str(item["Key"])
            name = key[len(prefix) :]
            if "/" in name or not _BLOB.match(name):
                continue
            yield Orphan(
                kind=OrphanKind.BLOB,
                name=key,
                store="blob store",
                modified=item["LastModified"],
                object_id=_object_id(name),
                remove=functools.partial(backend.delete, name),
            )
    for page in client.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, Prefix=prefix
    ):
        for upload in page.get("Uploads", []):
            key, upload_id = str(upload["Key"]), str(upload["UploadId"])
            yield Orphan(
                kind=OrphanKind.UPLOAD,
                name=key,
                store="blob store",
                modified=_upload_activity(backend, key, upload_id, upload["Initiated"]),
                object_id=_object_id(key[len(prefix) :]),
                remove=functools.partial(
                    client.abort_multipart_upload, Bucket=bucket, Key=key, UploadId=upload_id
                ),
            )


def _upload_activity(backend: S3Backend, key: str, upload_id: str, initiated: datetime) -> datetime:
    """When an unfinished upload last moved: its newest part, or when it began."""
    latest = initiated
    pages = backend.client.get_paginator("list_parts").paginate(
        Bucket=backend.bucket, Key=key, UploadId=upload_id
    )
    for page in pages:
        for part in page.get("Parts", []):
            latest = max(latest, part["LastModified"])
    return latest


def _key_store_candidates() -> Iterator[Orphan]:
    folder = keys.keystore_dir()
    # Depth 1: files of the top level only, never the pseudonymisation keys of pseudonym/.
    for path, modified in _local_files(folder, depth=1):
        name = path.name
        if _TEMPORARY.match(name):
            yield Orphan(
                kind=OrphanKind.TEMPORARY,
                name=name,
                store="key store",
                modified=modified,
                object_id=_object_id(name),
                remove=functools.partial(delete_durably, path),
            )
        elif found := _KEY_FILE.match(name):
            object_id = uuid.UUID(found["id"])
            yield Orphan(
                kind=OrphanKind.KEY_FILE,
                name=name,
                store="key store",
                modified=modified,
                object_id=str(object_id),
                # Under the key file's lock, so a rotation re-wrapping it cannot put it back.
                remove=functools.partial(keys.destroy_data_key, object_id),
            )


def _candidates(backend: Backend) -> list[Orphan]:
    found = list(_key_store_candidates())
    if isinstance(backend, LocalBackend):
        found += _local_candidates(backend)
    elif isinstance(backend, S3Backend):
        found += _s3_candidates(backend)
    else:  # pragma: no cover - only the two backends exist
        raise TypeError(f"The sweep does not know how to list a {type(backend).__name__}.")
    return found


def _rows(object_ids: Iterable[str]) -> dict[str, datetime | None]:
    """For each id that has a row: when it was deleted (None while it is live)."""
    wanted = sorted(set(object_ids))
    rows: dict[str, datetime | None] = {}
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        for pk, deleted_at in VaultObject.objects.filter(pk__in=part).values_list(
            "pk", "deleted_at"
        ):
            rows[str(pk)] = deleted_at
    return rows


def _why(item: Orphan, rows: dict[str, datetime | None]) -> str | None:
    """Why ``item`` is a leftover, or None if it belongs to a live object."""
    if item.kind is OrphanKind.TEMPORARY:
        return "a write that never finished"
    if item.kind is OrphanKind.UPLOAD:
        return "an upload that never finished"
    if item.object_id not in rows:
        return "no vault object has this id"
    deleted_at = rows[item.object_id]
    if deleted_at is None:
        return None
    return f"its object was deleted on {timezone.localtime(deleted_at):%d %B %Y at %H:%M}"


def find(
    *,
    now: datetime | None = None,
    older_than: timedelta = DEFAULT_OLDER_THAN,
    backend: Backend | None = None,
    force: bool = False,
) -> tuple[list[Orphan], list[Orphan]]:
    """The leftovers old enough to remove, and those too recent to touch yet, in the order
    they would be removed. Raises ``SweepRefused`` (unless ``force``) when most of the key
    store has no rows."""
    now = now or timezone.now()
    backend = backend or default_backend()
    candidates = _candidates(backend)
    rows = _rows(item.object_id for item in candidates if item.object_id)
    if not force:
        _refuse_a_mass_removal(candidates, rows)
    leftovers = [
        dataclasses.replace(item, why=why)
        for item in candidates
        if (why := _why(item, rows)) is not None
    ]
    # An object's leftovers are judged together, by the newest: a store still streaming its
    # blob keeps its (older) key file safe.
    newest: dict[str, datetime] = {}
    for item in leftovers:
        if item.object_id:
            newest[item.object_id] = max(newest.get(item.object_id, item.modified), item.modified)
    old: list[Orphan] = []
    recent: list[Orphan] = []
    for item in leftovers:
        last = newest.get(item.object_id, item.modified) if item.object_id else item.modified
        (old if now - last >= older_than else recent).append(item)
    return _ordered(old), _ordered(recent)


def _refuse_a_mass_removal(candidates: list[Orphan], rows: dict[str, datetime | None]) -> None:
    key_files = [item for item in candidates if item.kind is OrphanKind.KEY_FILE]
    unknown = [item for item in key_files if item.object_id not in rows]
    if len(unknown) > MASS_REMOVAL and 2 * len(unknown) > len(key_files):
        raise SweepRefused(
            f"{len(unknown)} of the {len(key_files)} key files in the key store belong to no "
            "vault object in the database. That looks like the wrong database, or a restore "
            "still under way, not the leftovers of interrupted writes, and removing them would "
            "destroy their objects' data for good. Check DATABASE_URL and that any restore has "
            "finished, then run the sweep again; if they really are leftovers, use "
            "`accord vault sweep --force`."
        )


def _ordered(items: list[Orphan]) -> list[Orphan]:
    return sorted(items, key=lambda item: (_ORDER.index(item.kind), item.store, item.name))


# Sweeping -------------------------------------------------------------------------------------


def sweep(
    *,
    older_than: timedelta = DEFAULT_OLDER_THAN,
    dry_run: bool = False,
    now: datetime | None = None,
    backend: Backend | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SweepReport:
    """Remove every leftover older than ``older_than`` (or, with ``dry_run``, only say which
    would go). One failure does not stop the rest. Raises ``SweepRefused`` (see ``find``)
    before removing anything, and ``NotRecorded`` if leftovers were removed but the audit event
    could not be written."""
    if older_than < timedelta(0):
        raise ValueError("The age threshold cannot be negative.")
    now = now or timezone.now()
    old, recent = find(now=now, older_than=older_than, backend=backend, force=force)
    report = SweepReport(
        now=now, older_than=older_than, dry_run=dry_run, too_recent=recent, forced=force
    )
    if dry_run:
        report.removed = old
        return report
    # A row may have been committed since the listing (a store held up longer than the
    # threshold): read the rows again and keep whatever now belongs to a live object.
    rows = _rows(item.object_id for item in old if item.object_id)
    due = [item for item in old if _why(item, rows) is not None]
    if progress:
        progress(0, len(due))
    for done, item in enumerate(due, start=1):
        try:
            item.remove()
        except Exception as exc:  # one leftover's failure must not stop the rest
            report.failed.append((item, _reason(exc)))
        else:
            report.removed.append(item)
        if progress:
            progress(done, len(due))
    if report.removed or report.failed:
        try:
            report.audit_seq = _record(report).seq
        except DatabaseError as exc:
            raise NotRecorded(report, exc) from exc
    return report


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"it could not be removed ({exc.strerror})"
    return f"it could not be removed ({type(exc).__name__}: {exc})"


def _record(report: SweepReport) -> AuditEvent:
    names: dict[str, list[str]] = {}
    for kind in _ORDER:
        found = [f"{item.store}: {item.name}" for item in report.removed if item.kind is kind]
        if found:
            names[str(kind)] = found[:NAMES_RECORDED]
    return record(
        by=Actor.task(ACTOR_NAME),
        action="vault.orphans.swept",
        target="vault",
        details={
            "older_than_minutes": report.older_than.total_seconds() / 60,
            "forced": report.forced,
            "removed": report.counts(),
            "removed_total": len(report.removed),
            "names": names,
            "names_limited_to": NAMES_RECORDED,
            "too_recent": len(report.too_recent),
            "failed": len(report.failed),
            "failures": [f"{item.store}: {item.name}: {why}" for item, why in report.failed[:50]],
        },
    )


def describe_age(older_than: timedelta) -> str:
    minutes = older_than.total_seconds() / 60
    shown = f"{minutes:g}"
    return f"{shown} minute{'' if shown == '1' else 's'}"
