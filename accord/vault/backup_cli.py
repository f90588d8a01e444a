"""`accord backup OUTPUT` and `accord restore ARCHIVE`.

``accord backup /backups/accord-2026-11-21.tar`` writes one tar file: the database (every row,
from one consistent snapshot) and the vault's encrypted blobs, with a manifest of SHA-256
checksums. It never holds the vault's key store or master key, nor the audit signing key: back
those up separately (see README, "Backup and restore"). Accord can keep running meanwhile.

``accord restore ARCHIVE`` checks the archive, then restores it into a freshly migrated
database and an empty blob store, and verifies the restored audit chain. Restore the key store
first: an object whose key is no longer there was crypto-shredded after the backup was taken,
and stays deleted. ``accord restore --check ARCHIVE`` only checks the archive.

Progress goes to stderr, the summary to stdout. Exit status: 0 done; 1 done, but something is
wrong (each is named: the backup could not be recorded in the audit log, or the restored data
has unreadable objects or fails the audit chain's verification); 2 could not run (bad input,
damaged archive, target not ready): nothing was written or changed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from accord.cli.common import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE

BACKUP_ACTOR = "accord backup"
RESTORE_ACTOR = "accord restore"


def register(subparsers: argparse._SubParsersAction) -> None:
    backup = subparsers.add_parser(
        "backup",
        help="write a backup of the database and the encrypted data (never the keys)",
        description=(
            "Write one tar file holding every database row (from one consistent snapshot) and "
            "the vault's encrypted objects, with a manifest of SHA-256 checksums. The vault's "
            "key store and master key are never in it: back them up separately. Accord can "
            "keep running. Exit status: 0 done, 1 written but not recorded in the audit log, "
            "2 nothing written."
        ),
    )
    backup.add_argument("output", metavar="OUTPUT", help="the new backup file, e.g. accord.tar")
    backup.set_defaults(handler=handle_backup)

    restore = subparsers.add_parser(
        "restore",
        help="restore a backup into a freshly migrated database and an empty blob store",
        description=(
            "Check the backup, then restore its database rows and encrypted objects into a "
            "freshly migrated database (accord manage migrate) and an empty blob store, and "
            "verify the restored audit chain. Restore the vault's key store from its own "
            "backup first. Exit status: 0 done, 1 restored with problems (each named), 2 "
            "nothing restored."
        ),
    )
    restore.add_argument("archive", metavar="ARCHIVE", help="a file made by accord backup")
    restore.add_argument(
        "--check",
        action="store_true",
        help="only check that the archive is complete and unchanged; restore nothing",
    )
    restore.add_argument(
        "--allow-empty-keystore",
        action="store_true",
        help=(
            "restore even though the key store holds no keys at all, treating every stored "
            "object as deleted since the backup"
        ),
    )
    restore.set_defaults(handler=handle_restore)


class _Bars:
    """One tqdm bar per stage, to stderr (silent when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            unit = " rows" if "database" in stage else " objects"
            bar = self.bars[stage] = tqdm(
                total=total, unit=unit, desc=stage, file=sys.stderr, disable=None
            )
        bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def _fail(command: str, message: str) -> int:
    print(f"accord {command}: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{count} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{count} bytes"  # pragma: no cover


def handle_backup(args: argparse.Namespace) -> int:
    from django.core.exceptions import ImproperlyConfigured
    from django.db import DatabaseError

    from accord.audit.actor import Actor

    from .backup import BackupError, create_backup

    bars = _Bars()
    try:
        report = create_backup(args.output, by=Actor.system(BACKUP_ACTOR), progress=bars)
    except BackupError as exc:
        return _fail("backup", f"{exc} Nothing was written.")
    except ImproperlyConfigured as exc:
        return _fail("backup", f"{exc} Nothing was written.")
    except DatabaseError as exc:
        return _fail("backup", f"cannot read the database ({exc}). Nothing was written.")
    except OSError as exc:
        return _fail(
            "backup",
            f"cannot write the backup ({exc.strerror or exc}: {exc.filename or args.output}). "
            "Nothing was written.",
        )
    finally:
        bars.close()

    print(
        f"Backed up {report.rows} database rows and {report.objects} encrypted object(s) "
        f"({_size(report.blob_bytes)}) to {report.path}."
    )
    print(f"Manifest SHA-256: {report.manifest_sha256}")
    if report.missing_blobs:
        print(
            f"{len(report.missing_blobs)} object(s) were deleted while the backup was being "
            "written; their data is not in it (they will stay deleted after a restore):"
        )
        for key in report.missing_blobs:
            print(f"  - {key}")
    print(
        "The vault's key store and master key are not in this backup: back them up "
        "separately, and keep them apart from it."
    )
    if not report.recorded:
        print(
            f"The backup is complete, but it could not be recorded in the audit log "
            f"({report.record_problem}).",
            file=sys.stderr,
        )
        return EXIT_PROBLEM
    return EXIT_OK


def handle_restore(args: argparse.Namespace) -> int:
    from django.core.exceptions import ImproperlyConfigured
    from django.db import DatabaseError

    from accord.audit.actor import Actor

    from .backup import BackupError, check_archive, restore_backup

    path = Path(args.archive)
    bars = _Bars()
    try:
        if args.check:
            archive = check_archive(path, progress=bars)
        else:
            report = restore_backup(
                path,
                by=Actor.system(RESTORE_ACTOR),
                progress=bars,
                allow_empty_keystore=args.allow_empty_keystore,
            )
            archive = report.archive
    except BackupError as exc:
        return _fail("restore", str(exc))
    except ImproperlyConfigured as exc:
        return _fail("restore", f"{exc} Nothing was restored.")
    except DatabaseError as exc:
        return _fail(
            "restore",
            f"the database refused the restore ({exc}); it was rolled back, so nothing was "
            "restored.",
        )
    except OSError as exc:
        return _fail(
            "restore",
            f"cannot read the backup or write the blob store ({exc.strerror or exc}); the "
            "restore was rolled back, so nothing was restored.",
        )
    finally:
        bars.close()

    if args.check:
        print(
            f"The backup {archive.path} is complete and unchanged: {archive.rows} database rows "
            f"and {archive.manifest['blobs']['count']} encrypted object(s)."
        )
        print(f"It was {archive.describe()}. Nothing was restored.")
        print(f"Manifest SHA-256: {archive.manifest_sha256}")
        return EXIT_OK

    status = EXIT_OK
    print(
        f"Restored the backup {archive.describe()}: {report.rows} database rows and "
        f"{report.objects_restored} encrypted object(s)."
    )
    print(f"Manifest SHA-256: {archive.manifest_sha256}")
    if report.found_shredded:
        print(
            f"{len(report.found_shredded)} object(s) were crypto-shredded after the backup was "
            "taken: their keys are gone, so they stay deleted and their data was not restored:"
        )
        for item in report.found_shredded:
            print(f"  - {item.name} ({item.object_id})")
        print(
            "If any was not deleted on purpose, the key store put back is older than the "
            "backup: put back a newer copy, empty the database and blob store, and restore again."
        )
    if report.unreadable:
        status = EXIT_PROBLEM
        print(
            f"{len(report.unreadable)} object(s) cannot be read: their data was missing when "
            "the backup was taken, although their keys are still in the key store:"
        )
        for key in report.unreadable:
            print(f"  - {key}")
    result = report.verification
    if result is not None and result.ok:
        print(
            f"The restored audit chain checks out: {result.events_checked} events, newest "
            f"#{result.head_seq}."
        )
    elif result is not None:
        status = EXIT_PROBLEM
        print("The restored audit chain does not verify:")
        for problem in result.problems:
            print(f"  - {problem}")
    print(
        "Sign-in sessions are not restored: everyone signs in again. Events recorded after "
        "the backup was taken are not in the restored audit log."
    )
    return status
