"""Backing up and restoring Accord: the database and the vault's blobs, never a key.

``create_backup`` writes one uncompressed tar file (format version 1) holding, in this order:

- ``database.jsonl.gz``: every row of every table except sessions, as Django's JSON Lines
  serialisation (one row a line, tables in dependency order, rows in key order), gzipped. The
  rows are read in one snapshot — a REPEATABLE READ, READ ONLY transaction on PostgreSQL, one
  read transaction on SQLite — so they agree with each other while Accord keeps running. Times
  keep their microseconds: the audit chain hashes them.
- ``blobs/<object id>.v<version>``: the ciphertext of every object live in that snapshot,
  copied after it. Blobs are written once and never changed, so a blob copied later is the one
  the snapshot describes; a blob gone meanwhile (its object crypto-shredded since the snapshot)
  is listed in the manifest as missing, which is not an error.
- ``manifest.json``: format and version, when, the Accord version, the database vendor, the
  applied migrations, row counts, the audit chain's head, and the size and SHA-256 of every
  member above; then ``manifest.sha256``, the manifest's own SHA-256 (``sha256sum`` format).

The key store and the master key are never read here, so no backup can hold them: they are
backed up separately, and without them the blobs in a backup are noise (ADR 0004).

``restore_backup`` checks every member against the manifest before it changes anything, then
refuses unless the database is freshly migrated, at the migrations the backup was taken with,
and the blob store is empty. It loads the rows and writes the blobs in one database transaction
(removing the blobs it wrote if anything fails) and appends "vault.backup.restored" to the
restored audit chain, which it then verifies.

The key store decides what was destroyed: an object live in the backup whose key is no longer in
the key store was crypto-shredded after the backup was taken. Its blob is not restored; it is
marked deleted with a reason saying so, and "vault.object.found_shredded" is recorded, so it
reads as deleted (key destroyed), never as damaged. Restore the key store first: if it holds no
key at all while the backup has live objects, restore refuses.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from importlib import metadata
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.core.serializers import sort_dependencies
from django.core.serializers.base import DeserializationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.jsonl import Deserializer as JsonLinesDeserializer
from django.core.serializers.jsonl import Serializer as JsonLinesSerializer
from django.db import DatabaseError, connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.audit.chain import timestamp
from accord.audit.enums import GENESIS_HASH
from accord.audit.models import AuditHead
from accord.audit.verification import VerificationResult, human_time, verify_chain

from . import keys
from .actions import certify_deletion
from .backends import Backend, BlobNotFound, LocalBackend, S3Backend, default_backend
from .files import fsync_folder, temporary_name
from .models import VaultObject

FORMAT = "accord-backup"
FORMAT_VERSION = 1
DATABASE_MEMBER = "database.jsonl.gz"
BLOB_PREFIX = "blobs/"
MANIFEST_MEMBER = "manifest.json"
MANIFEST_DIGEST_MEMBER = "manifest.sha256"

# Never backed up: sign-in sessions (people sign in again after a restore).
LEFT_OUT = frozenset({"sessions.session"})
# `migrate` fills these on every database; a restore replaces them with the backup's rows, so
# ids stay exactly as they were.
REPLACED_ON_RESTORE = ("auth.permission", "contenttypes.contenttype")

STAGE_ROWS = "Reading the database"
STAGE_BLOBS = "Copying encrypted objects"
STAGE_CHECK = "Checking the archive"
STAGE_RESTORE_ROWS = "Restoring the database"
STAGE_RESTORE_BLOBS = "Restoring encrypted objects"

KEYS_NOTE = (
    "The vault's key store and master key are never in an Accord backup. Back them up "
    "separately, and apart from this archive; without them its encrypted objects cannot be read."
)

Progress = Callable[[str, int, int], None]

_PIECE = 1024 * 1024
_SPOOL_IN_MEMORY = 8 * 1024 * 1024
_BATCH = 500
_MAX_MANIFEST_BYTES = 256 * 1024 * 1024
_BLOB_MEMBER = re.compile(
    r"blobs/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.v[0-9]+"
)


class BackupError(Exception):
    """A backup or restore cannot be done as asked. The message says what to do; nothing was
    changed (a backup leaves no file behind, a restore changes neither database nor store)."""


class ArchiveDamaged(BackupError):
    """The archive is not a complete, unchanged Accord backup."""


class TargetNotReady(BackupError):
    """The database, blob store or key store is not ready to receive a restore."""


# What the commands report ---------------------------------------------------------------------


@dataclass
class BackupReport:
    path: Path
    created_at: datetime
    manifest_sha256: str
    rows: int
    objects: int
    blob_bytes: int
    audit_head_seq: int
    missing_blobs: list[str] = field(default_factory=list)
    recorded: bool = True
    record_problem: str = ""


@dataclass
class Archive:
    """A checked backup archive: every member is there and matches the manifest."""

    path: Path
    manifest: dict[str, Any]
    manifest_sha256: str

    @property
    def created_at(self) -> str:
        return str(self.manifest["created_at"])

    @property
    def rows(self) -> int:
        return sum(self.manifest["database"]["counts"].values())

    @property
    def blob_keys(self) -> list[str]:
        return sorted(
            name.removeprefix(BLOB_PREFIX)
            for name in self.manifest["members"]
            if name.startswith(BLOB_PREFIX)
        )

    @property
    def missing_blobs(self) -> list[str]:
        return list(self.manifest["blobs"]["missing"])

    def live_objects(self) -> dict[str, str]:
        """Object id -> blob key, for every object live when the backup was taken."""
        return {key.split(".v")[0]: key for key in [*self.blob_keys, *self.missing_blobs]}

    def describe(self) -> str:
        return (
            f"taken on {human_time(self.created_at)} by Accord "
            f"{self.manifest['accord_version']} on {self.manifest['database']['vendor']}"
        )


@dataclass
class FoundShredded:
    object_id: str
    name: str


@dataclass
class RestoreReport:
    archive: Archive
    rows: int
    objects_restored: int
    found_shredded: list[FoundShredded] = field(default_factory=list)
    # Live objects whose key is still in the key store but whose blob is not in the backup.
    unreadable: list[str] = field(default_factory=list)
    verification: VerificationResult | None = None


# Backup ---------------------------------------------------------------------------------------


class _ExactEncoder(DjangoJSONEncoder):
    """Django's encoder cuts times to milliseconds; the audit chain hashes microseconds."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime | time):
            return o.isoformat()
        return super().default(o)


class _HashingReader:
    """Reads through to ``raw``, keeping the SHA-256 and size of what was read."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def backed_up_models() -> list[type[models.Model]]:
    """Every table a backup holds, in dependency order."""
    app_list = [
        (config, None) for config in apps.get_app_configs() if config.models_module is not None
    ]
    return [
        model
        for model in sort_dependencies(app_list, allow_cycles=True)
        if model._meta.managed and not model._meta.proxy and model._meta.label_lower not in LEFT_OUT
    ]


def applied_migrations() -> list[str]:
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return []
    return sorted(f"{app}.{name}" for app, name in recorder.applied_migrations())


@contextlib.contextmanager
def _snapshot() -> Iterator[str]:
    """One consistent view of the database for every read inside. Yields how it was taken."""
    if connection.in_atomic_block:
        # Already in a transaction (a caller's, or a test's): its view is the snapshot.
        yield "inside the caller's transaction"
    elif connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield "one REPEATABLE READ, READ ONLY transaction"
    elif connection.vendor == "sqlite":
        # A deferred read transaction: in WAL mode writers carry on, and every read sees the
        # database as at the first one. (Django's atomic() would take the write lock.)
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield "one read transaction"
        finally:
            with connection.cursor() as cursor:
                cursor.execute("ROLLBACK")
    else:
        with transaction.atomic():
            yield "one transaction"


@dataclass
class _Snapshot:
    how: str
    vendor: str
    migrations: list[str]
    counts: dict[str, int]
    head_seq: int
    head_hash: str
    blobs: list[str]  # blob keys of the objects live in the snapshot


def _dump_database(out: IO[bytes], progress: Progress | None) -> _Snapshot:
    """Write every backed-up row to ``out`` (gzipped JSON Lines), all from one snapshot."""
    with _snapshot() as how:
        tables = backed_up_models()
        total = sum(model._base_manager.count() for model in tables)
        head = AuditHead.objects.filter(pk=1).values("seq", "hash").first()
        blobs = [
            obj.blob_key
            for obj in VaultObject.objects.filter(deleted_at__isnull=True)
            .only("id", "version")
            .order_by("id")
            .iterator()
        ]
        counts: dict[str, int] = {}
        done = 0
        if progress:
            progress(STAGE_ROWS, 0, total)
        with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as packed:
            text = io.TextIOWrapper(packed, encoding="utf-8", newline="\n")
            serializer = JsonLinesSerializer()
            for model in tables:
                label = model._meta.label_lower
                counts[label] = 0

                def rows(model: type[models.Model] = model, label: str = label) -> Iterator[Any]:
                    nonlocal done
                    ordered = model._base_manager.order_by(model._meta.pk.attname)
                    for row in ordered.iterator(chunk_size=2000):
                        yield row
                        counts[label] += 1
                        done += 1
                        if progress and done % 1000 == 0:
                            progress(STAGE_ROWS, done, total)

                serializer.serialize(rows(), stream=text, cls=_ExactEncoder)
            text.flush()
            text.detach()
        if progress:
            progress(STAGE_ROWS, done, total)
        return _Snapshot(
            how=how,
            vendor=connection.vendor,
            migrations=applied_migrations(),
            counts=counts,
            head_seq=int(head["seq"]) if head else 0,
            head_hash=str(head["hash"]) if head else GENESIS_HASH,
            blobs=blobs,
        )


def _inside(path: Path, folder: Path | str | None) -> bool:
    if not folder:
        return False
    return path.resolve().is_relative_to(Path(folder).resolve())


def _check_output(output: Path, backend: Backend) -> None:
    if output.exists() or output.is_symlink():
        raise BackupError(
            f"{output} already exists. Give a new file name: a backup never replaces a file."
        )
    if not output.parent.is_dir():
        raise BackupError(f"The folder {output.parent} does not exist; create it first.")
    keystore = getattr(settings, "VAULT_KEYSTORE_DIR", None)
    if _inside(output, keystore):
        raise BackupError(
            f"{output} is inside the vault's key store ({keystore}). Write backups elsewhere: "
            "the key store must never travel with a backup."
        )
    if isinstance(backend, LocalBackend) and _inside(output, backend.root):
        raise BackupError(
            f"{output} is inside the vault's blob store ({backend.root}). Write backups elsewhere."
        )


def _add_member(
    tar: tarfile.TarFile,
    name: str,
    source: IO[bytes],
    size: int,
    mtime: datetime,
    members: dict[str, dict[str, Any]],
) -> None:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime.timestamp())
    info.mode = 0o600
    reader = _HashingReader(source)
    tar.addfile(info, reader)
    members[name] = {"size": size, "sha256": reader.digest.hexdigest()}


def _size_of(stream: BinaryIO) -> int | None:
    try:
        return os.fstat(stream.fileno()).st_size
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _copy_blob(
    tar: tarfile.TarFile,
    backend: Backend,
    key: str,
    spool_dir: Path,
    mtime: datetime,
    members: dict[str, dict[str, Any]],
) -> bool:
    """Copy one blob into the archive; False if it is gone (its object shredded meanwhile)."""
    try:
        stream = backend.open(key)
    except BlobNotFound:
        return False
    with stream:
        size = _size_of(stream)
        if size is not None:
            _add_member(tar, BLOB_PREFIX + key, stream, size, mtime, members)
            return True
        # A store that cannot say the size up front (S3): a tar header needs it first.
        with tempfile.SpooledTemporaryFile(
            max_size=_SPOOL_IN_MEMORY, mode="w+b", dir=str(spool_dir)
        ) as spool:
            shutil.copyfileobj(stream, spool, _PIECE)
            size = spool.tell()
            spool.seek(0)
            _add_member(tar, BLOB_PREFIX + key, spool, size, mtime, members)
    return True


def accord_version() -> str:
    try:
        return metadata.version("accord")
    except metadata.PackageNotFoundError:
        return "unknown"


def create_backup(
    output: Path | str,
    *,
    by: Actor,
    progress: Progress | None = None,
    backend: Backend | None = None,
) -> BackupReport:
    """Write a backup of the database and the blobs to the new file ``output`` and record it.

    Raises ``BackupError`` (nothing written) when ``output`` cannot be used. The file appears
    under its name only once complete. A database error writing the audit event afterwards is
    reported in ``BackupReport.record_problem``; the backup itself is good."""
    output = Path(output).absolute()
    backend = backend or default_backend()
    _check_output(output, backend)
    created_at = timezone.now()
    members: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    blob_bytes = 0
    temporary = temporary_name(output)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            with tarfile.TarFile(
                fileobj=handle, mode="w", format=tarfile.PAX_FORMAT, copybufsize=_PIECE
            ) as tar:
                with tempfile.TemporaryFile(dir=output.parent) as dump:
                    snap = _dump_database(dump, progress)
                    size = dump.tell()
                    dump.seek(0)
                    _add_member(tar, DATABASE_MEMBER, dump, size, created_at, members)
                total = len(snap.blobs)
                if progress:
                    progress(STAGE_BLOBS, 0, total)
                for done, key in enumerate(snap.blobs, start=1):
                    if _copy_blob(tar, backend, key, output.parent, created_at, members):
                        blob_bytes += members[BLOB_PREFIX + key]["size"]
                    else:
                        missing.append(key)
                    if progress:
                        progress(STAGE_BLOBS, done, total)
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": timestamp(created_at),
                    "accord_version": accord_version(),
                    "database": {
                        "vendor": snap.vendor,
                        "snapshot": snap.how,
                        "migrations": snap.migrations,
                        "counts": snap.counts,
                        "left_out": sorted(LEFT_OUT),
                    },
                    "audit_head": {"seq": snap.head_seq, "hash": snap.head_hash},
                    "blobs": {
                        "count": len(snap.blobs) - len(missing),
                        "bytes": blob_bytes,
                        "missing": missing,
                    },
                    "members": members,
                    "keys": KEYS_NOTE,
                }
                text = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
                digest = hashlib.sha256(text).hexdigest()
                trailer = f"{digest}  {MANIFEST_MEMBER}\n".encode()
                for name, data in ((MANIFEST_MEMBER, text), (MANIFEST_DIGEST_MEMBER, trailer)):
                    _add_member(tar, name, io.BytesIO(data), len(data), created_at, {})
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, output)  # never replaces a file that appeared meanwhile
        except FileExistsError as exc:
            raise BackupError(
                f"{output} appeared while the backup was being written; it was left untouched "
                "and no backup was written. Give a new file name."
            ) from exc
        fsync_folder(output.parent)
    finally:
        temporary.unlink(missing_ok=True)

    report = BackupReport(
        path=output,
        created_at=created_at,
        manifest_sha256=digest,
        rows=sum(snap.counts.values()),
        objects=len(snap.blobs) - len(missing),
        blob_bytes=blob_bytes,
        audit_head_seq=snap.head_seq,
        missing_blobs=missing,
    )
    try:
        record(
            by=by,
            action="vault.backup.created",
            target=f"backup:{output.name}",
            details={
                "path": str(output),
                "created_at": timestamp(created_at),
                "manifest_sha256": digest,
                "format_version": FORMAT_VERSION,
                "rows": report.rows,
                "objects": report.objects,
                "blob_bytes": blob_bytes,
                "missing_blobs": missing,
                "audit_head_seq": snap.head_seq,
            },
        )
    except DatabaseError as exc:
        report.recorded, report.record_problem = False, str(exc)
    return report


# Checking an archive --------------------------------------------------------------------------


def _damaged(path: Path, what: str) -> ArchiveDamaged:
    return ArchiveDamaged(
        f"The backup {path} {what} Do not restore from it: use another backup, or a fresh "
        "copy of this one."
    )


def _read_member(tar: tarfile.TarFile, info: tarfile.TarInfo, limit: int) -> bytes:
    handle = tar.extractfile(info)
    if handle is None or info.size > limit:
        raise ValueError(info.name)
    return handle.read()


def _open_archive(path: Path) -> tarfile.TarFile:
    if not path.exists():
        raise BackupError(f"There is no file {path}.")
    if path.is_dir():
        raise BackupError(
            f"{path} is a folder; give the backup file (a .tar made by accord backup)."
        )
    try:
        return tarfile.open(path, mode="r:")
    except tarfile.ReadError as exc:
        raise _damaged(
            path, "is not an Accord backup (it is not a tar archive), or is damaged."
        ) from exc
    except OSError as exc:
        raise BackupError(f"Cannot read {path} ({exc.strerror or exc}).") from exc


def _read_manifest(path: Path, tar: tarfile.TarFile) -> tuple[dict[str, Any], str]:
    try:
        info = tar.getmember(MANIFEST_MEMBER)
        text = _read_member(tar, info, _MAX_MANIFEST_BYTES)
        trailer = _read_member(tar, tar.getmember(MANIFEST_DIGEST_MEMBER), 1024)
    except KeyError as exc:
        raise _damaged(
            path,
            "has no manifest: it is not an Accord backup, or it was cut short or damaged.",
        ) from exc
    except (ValueError, OSError, tarfile.TarError, EOFError) as exc:
        raise _damaged(
            path, "cannot be read to its manifest: it was cut short or damaged."
        ) from exc
    digest = hashlib.sha256(text).hexdigest()
    if trailer.split(b" ", 1)[0].decode("ascii", "replace") != digest:
        raise _damaged(
            path,
            "has been altered or damaged: its manifest does not match the manifest's SHA-256 "
            "stored beside it.",
        )
    try:
        manifest = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _damaged(path, "has a manifest that is not valid JSON: it is damaged.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _damaged(path, "is not an Accord backup (its manifest is not one).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"The backup {path} is in format version {manifest.get('format_version')}; this "
            f"version of Accord ({accord_version()}) reads format version {FORMAT_VERSION} "
            "only. Restore it with the Accord version that made it."
        )
    try:
        for name, entry in manifest["members"].items():
            int(entry["size"]), str(entry["sha256"])
            if name != DATABASE_MEMBER and not _BLOB_MEMBER.fullmatch(name):
                raise ValueError(name)
        manifest["database"]["counts"].items()
        list(manifest["database"]["migrations"])
        if not all(
            _BLOB_MEMBER.fullmatch(BLOB_PREFIX + key) for key in manifest["blobs"]["missing"]
        ):
            raise ValueError("missing")
        int(manifest["audit_head"]["seq"]), str(manifest["audit_head"]["hash"])
        str(manifest["created_at"]), str(manifest["accord_version"])
        if DATABASE_MEMBER not in manifest["members"]:
            raise ValueError(DATABASE_MEMBER)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _damaged(path, "has a manifest that is incomplete: it is damaged.") from exc
    return manifest, digest


def _hash_member(tar: tarfile.TarFile, info: tarfile.TarInfo) -> str:
    handle = tar.extractfile(info)
    assert handle is not None
    digest = hashlib.sha256()
    while piece := handle.read(_PIECE):
        digest.update(piece)
    return digest.hexdigest()


def check_archive(path: Path | str, progress: Progress | None = None) -> Archive:
    """Check that ``path`` is a complete, unchanged Accord backup: every member the manifest
    lists is there, once, with its size and SHA-256, and nothing else is. Changes nothing.

    Raises ``ArchiveDamaged`` (or ``BackupError`` for a file that cannot be read at all)."""
    path = Path(path).absolute()
    with _open_archive(path) as tar:
        manifest, digest = _read_manifest(path, tar)
        expected: dict[str, dict[str, Any]] = manifest["members"]
        seen: set[str] = set()
        total = len(expected)
        if progress:
            progress(STAGE_CHECK, 0, total)
        try:
            for info in tar:
                name = info.name
                if name in (MANIFEST_MEMBER, MANIFEST_DIGEST_MEMBER):
                    continue
                if name not in expected:
                    raise _damaged(
                        path, f"holds {name}, which its manifest does not list: it was altered."
                    )
                if name in seen:
                    raise _damaged(path, f"holds {name} twice: it was altered.")
                if not info.isfile() or info.size != int(expected[name]["size"]):
                    raise _damaged(
                        path,
                        f"has been altered or damaged: {name} is not the size its manifest "
                        "records.",
                    )
                if _hash_member(tar, info) != expected[name]["sha256"]:
                    raise _damaged(
                        path,
                        f"has been altered or damaged: {name} does not match the SHA-256 its "
                        "manifest records.",
                    )
                seen.add(name)
                if progress:
                    progress(STAGE_CHECK, len(seen), total)
        except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
            raise _damaged(
                path, f"cannot be read to the end ({exc}): it was cut short or damaged."
            ) from exc
        absent = sorted(set(expected) - seen)
        if absent:
            more = f" and {len(absent) - 1} more" if len(absent) > 1 else ""
            raise _damaged(
                path, f"is incomplete: {absent[0]}{more} listed in its manifest is not in it."
            )
    return Archive(path=path, manifest=manifest, manifest_sha256=digest)


# Is the target ready? -------------------------------------------------------------------------


def migration_problems(backed_up: Iterable[str], applied: Iterable[str], version: str) -> list[str]:
    """Why a database at ``applied`` migrations cannot take rows from one at ``backed_up``."""
    backed_up, applied = set(backed_up), set(applied)
    if not applied:
        return [
            "This database has not been set up: run `accord manage migrate` on it first, then "
            "restore."
        ]
    problems = []
    lacking = sorted(backed_up - applied)
    extra = sorted(applied - backed_up)
    if lacking:
        problems.append(
            f"This database lacks {len(lacking)} migration(s) the backup was taken with (such "
            f"as {lacking[0]}). Run `accord manage migrate` first; if this version of Accord "
            f"does not have them, restore with Accord {version}, which took the backup."
        )
    if extra:
        problems.append(
            f"This database has {len(extra)} migration(s) the backup was not taken with (such "
            f"as {extra[0]}), so its tables differ from the backup's. Restore into a database "
            f"migrated by Accord {version}, which took the backup, then upgrade Accord."
        )
    return problems


def _database_contents() -> list[str]:
    """What a freshly migrated database would not hold."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if not meta.managed or meta.proxy:
            continue
        if meta.label_lower in (*REPLACED_ON_RESTORE, *LEFT_OUT):
            continue
        if model is AuditHead:
            if AuditHead.objects.exclude(pk=1, seq=0, hash=GENESIS_HASH).exists():
                found.append("an audit chain head that has moved on from the start")
            continue
        count = model._base_manager.count()
        if count:
            found.append(f"{count} {meta.verbose_name if count == 1 else meta.verbose_name_plural}")
    return found


def _blob_store_contents(backend: Backend, blob_keys: list[str]) -> str | None:
    if isinstance(backend, LocalBackend):
        root = backend.root
        if root.is_dir():
            for item in root.rglob("*"):
                if not item.is_dir():
                    return f"the blob store {root} is not empty (it holds {item.relative_to(root)})"
        return None
    if isinstance(backend, S3Backend):
        answer = backend.client.list_objects_v2(
            Bucket=backend.bucket, Prefix=backend.prefix, MaxKeys=1
        )
        if answer.get("KeyCount") or answer.get("Contents"):
            return f"the blob store s3://{backend.bucket}/{backend.prefix} is not empty"
        return None
    taken = [key for key in blob_keys if backend.exists(key)]
    if taken:
        return f"the blob store already holds {len(taken)} of the backup's objects"
    return None


def _keyless(archive: Archive, allow_empty_keystore: bool) -> set[str]:
    """The backup's live objects whose key is no longer in the key store (shredded since)."""
    live = archive.live_objects()
    folder = keys.keystore_dir()
    present = {object_id for object_id in live if keys.key_path(object_id).is_file()}
    if live and not allow_empty_keystore:
        holds_any = folder.is_dir() and any(folder.glob(f"*{keys.KEY_FILE_SUFFIX}"))
        if not holds_any:
            raise TargetNotReady(
                f"The vault's key store ({folder}) holds no keys, but the backup has "
                f"{len(live)} stored object(s). The key store is never in an Accord backup: "
                "restore it from its own backup first, then run accord restore again. (If every "
                "object really was deleted since the backup, add --allow-empty-keystore.) "
                "Nothing was restored."
            )
    return set(live) - present


def target_problems(archive: Archive, backend: Backend) -> list[str]:
    """What is in the database or blob store already; empty when both are fresh."""
    problems = []
    contents = _database_contents()
    if contents:
        shown = ", ".join(contents[:6]) + (
            f" and {len(contents) - 6} more" if len(contents) > 6 else ""
        )
        problems.append(f"the database is not empty (it holds {shown})")
    store = _blob_store_contents(backend, archive.blob_keys)
    if store:
        problems.append(store)
    return problems


# Restore --------------------------------------------------------------------------------------


def _member_pieces(
    tar: tarfile.TarFile, info: tarfile.TarInfo, sha256: str, path: Path
) -> Iterator[bytes]:
    """The member's bytes; raises (so the store discards the write) if they are not the
    bytes the manifest records."""
    handle = tar.extractfile(info)
    assert handle is not None
    digest = hashlib.sha256()
    while piece := handle.read(_PIECE):
        digest.update(piece)
        yield piece
    if digest.hexdigest() != sha256:
        raise _damaged(path, f"changed while it was being restored: {info.name} no longer matches.")


def _rows(text: IO[str]) -> Iterator[Any]:
    """The dump's rows as Django objects; ``ArchiveDamaged`` if it cannot be read."""
    rows = JsonLinesDeserializer(text)
    while True:
        try:
            item = next(rows)
        except StopIteration:
            return
        except (DeserializationError, EOFError, OSError, UnicodeDecodeError, zlib.error) as exc:
            raise ArchiveDamaged(
                f"The backup's database rows cannot be read ({exc}): it is damaged, or was not "
                "made by accord backup. Nothing was restored."
            ) from exc
        yield item


def _load_database(stream: IO[bytes], total: int, progress: Progress | None) -> dict[str, int]:
    """Insert every row of the dump; returns the rows loaded per table."""
    counts: dict[str, int] = {}
    loaded: set[type[models.Model]] = set()
    batch: list[models.Model] = []
    many: list[tuple[models.Model, dict[str, list[Any]]]] = []
    done = 0

    def flush() -> None:
        # Raw inserts, as loaddata's: values exactly as stored (bulk_create would stamp
        # auto_now_add fields with the time of the restore).
        if not batch:
            return
        model = type(batch[0])
        fields = list(model._meta.local_concrete_fields)
        size = max(1, connection.ops.bulk_batch_size(fields, batch) or len(batch))
        for start in range(0, len(batch), size):
            cast(Any, model._base_manager)._insert(
                batch[start : start + size], fields=fields, raw=True
            )
        batch.clear()

    with gzip.GzipFile(fileobj=stream, mode="rb") as unpacked:
        text = io.TextIOWrapper(unpacked, encoding="utf-8")
        for item in _rows(text):
            obj = item.object
            model = type(obj)
            label = model._meta.label_lower
            if label in LEFT_OUT:
                continue
            if batch and type(batch[0]) is not model:
                flush()
            batch.append(obj)
            if len(batch) >= _BATCH:
                flush()
            if item.m2m_data:
                many.append((obj, item.m2m_data))
            loaded.add(model)
            counts[label] = counts.get(label, 0) + 1
            done += 1
            if progress and done % 1000 == 0:
                progress(STAGE_RESTORE_ROWS, done, total)
        flush()
    for obj, values in many:
        for name, related in values.items():
            getattr(obj, name).set(related)
    statements = connection.ops.sequence_reset_sql(no_style(), list(loaded))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    if progress:
        progress(STAGE_RESTORE_ROWS, done, total)
    return counts


def _shredded_reason(archive: Archive) -> str:
    return (
        f"Crypto-shredded after the backup of {human_time(archive.created_at)} was taken: its "
        "key was gone from the key store when that backup was restored"
    )


def restore_backup(
    path: Path | str,
    *,
    by: Actor,
    progress: Progress | None = None,
    backend: Backend | None = None,
    allow_empty_keystore: bool = False,
) -> RestoreReport:
    """Restore the backup at ``path`` into this freshly migrated database and empty blob store.

    Raises ``ArchiveDamaged``, ``TargetNotReady`` or ``BackupError`` with nothing changed. The
    rows, blobs and audit events go in together or not at all."""
    archive = check_archive(path, progress)
    manifest = archive.manifest
    backend = backend or default_backend()
    migrations = migration_problems(
        manifest["database"]["migrations"], applied_migrations(), manifest["accord_version"]
    )
    if migrations:
        raise TargetNotReady(" ".join(migrations) + " Nothing was restored.")
    problems = target_problems(archive, backend)
    if problems:
        raise TargetNotReady(
            "Accord restores only into a freshly migrated database and an empty blob store, "
            "so that two platforms' data are never mixed, and here "
            + "; and ".join(problems)
            + ". Nothing was restored."
        )
    shredded = _keyless(archive, allow_empty_keystore)
    members = manifest["members"]
    written: list[str] = []
    report = RestoreReport(archive=archive, rows=0, objects_restored=0)
    try:
        with transaction.atomic(), _open_archive(archive.path) as tar:
            for label in REPLACED_ON_RESTORE:
                apps.get_model(label)._base_manager.all().delete()
            AuditHead.objects.all().delete()
            wanted = [key for key in archive.blob_keys if key.split(".v")[0] not in shredded]
            if progress:
                progress(STAGE_RESTORE_BLOBS, 0, len(wanted))
            for info in tar:
                name = info.name
                if name == DATABASE_MEMBER:
                    handle = tar.extractfile(info)
                    assert handle is not None
                    reader = _HashingReader(handle)
                    counts = _load_database(cast(IO[bytes], reader), archive.rows, progress)
                    while reader.read(_PIECE):
                        pass
                    if reader.digest.hexdigest() != members[name]["sha256"]:
                        raise _damaged(
                            archive.path, f"changed while it was being restored: {name}."
                        )
                    if counts != {k: v for k, v in manifest["database"]["counts"].items() if v}:
                        raise _damaged(
                            archive.path, "holds database rows that differ from its manifest."
                        )
                    report.rows = sum(counts.values())
                elif name.startswith(BLOB_PREFIX):
                    key = name.removeprefix(BLOB_PREFIX)
                    if key not in wanted:
                        continue
                    backend.write(
                        key, _member_pieces(tar, info, members[name]["sha256"], archive.path)
                    )
                    written.append(key)
                    if progress:
                        progress(STAGE_RESTORE_BLOBS, len(written), len(wanted))
            report.objects_restored = len(written)
            head = AuditHead.objects.filter(pk=1).values("seq", "hash").first()
            if head != {
                "seq": manifest["audit_head"]["seq"],
                "hash": manifest["audit_head"]["hash"],
            }:
                raise _damaged(archive.path, "holds an audit chain head unlike its manifest's.")
            report.found_shredded = _mark_shredded(archive, shredded, by)
            report.unreadable = sorted(
                key for key in archive.missing_blobs if key.split(".v")[0] not in shredded
            )
            record(
                by=by,
                action="vault.backup.restored",
                target=f"backup:{archive.path.name}",
                details={
                    "path": str(archive.path),
                    "backup_created_at": archive.created_at,
                    "backup_accord_version": manifest["accord_version"],
                    "backup_database": manifest["database"]["vendor"],
                    "manifest_sha256": archive.manifest_sha256,
                    "audit_head_seq_at_backup": manifest["audit_head"]["seq"],
                    "rows": report.rows,
                    "objects_restored": report.objects_restored,
                    "found_shredded": [item.object_id for item in report.found_shredded],
                    "missing_blobs": report.unreadable,
                },
            )
    except BaseException:
        for key in written:
            with contextlib.suppress(Exception):
                backend.delete(key)
        raise
    finally:
        ContentType.objects.clear_cache()
    report.verification = verify_chain()
    return report


def _mark_shredded(archive: Archive, shredded: set[str], by: Actor) -> list[FoundShredded]:
    found = []
    reason = _shredded_reason(archive)
    ids = [uuid.UUID(object_id) for object_id in shredded]
    objects = (
        VaultObject.objects.select_related("organisation")
        .filter(pk__in=ids, deleted_at__isnull=True)
        .order_by("id")
    )
    for obj in objects:
        obj.deleted_at, obj.deleted_by, obj.deletion_reason = timezone.now(), by.ref, reason
        obj.save(update_fields=["deleted_at", "deleted_by", "deletion_reason"])
        # Its original certificate was written after the backup and is gone with the rest of
        # the log after it; this event certifies the deletion in the restored log.
        certify_deletion(
            by=by,
            obj=obj,
            action="vault.object.found_shredded",
            reason=reason,
            details={"backup_created_at": archive.created_at, "blob_restored": False},
        )
        found.append(FoundShredded(object_id=str(obj.id), name=obj.name))
    return found
