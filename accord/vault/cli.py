"""`accord vault new-master-key`, `accord vault rotate-master-key` and `accord vault sweep`.

Rotating safely, while Accord keeps running:

1. ``accord vault new-master-key /secure/vault-master-2.key`` makes a new key (0600).
2. Point ``ACCORD_MASTER_KEY_FILE`` at the new file and list the old one in
   ``ACCORD_MASTER_KEY_PREVIOUS_FILES``; restart. New objects are wrapped under the new key and
   old ones stay readable through the key ring.
3. ``accord vault rotate-master-key --new-key-file /secure/vault-master-2.key`` re-wraps every
   data key still under an old key. Interrupted? Run it again: it skips what is done.
4. When it reports nothing left, remove the old key from ``ACCORD_MASTER_KEY_PREVIOUS_FILES``.

The command refuses to start unless Accord's configured key ring includes the new key, so no
object ever becomes unreadable part-way. Exit status: 0 every key file is under the new key,
1 some could not be re-wrapped (each is named, and left as it was), 2 the rotation could not
start (nothing was changed). Keys are never printed, only their ids.

Sweeping leftovers (``accord vault sweep [--dry-run] [--older-than MINUTES]``, see ``sweep``):
a process killed while storing an object can leave a hidden temporary file (``.NAME.HEX.tmp``)
in the blob folder or the key store, an unfinished multipart upload on S3, or a blob or key file
whose database row was never written; none is ever visible as an object. The sweep removes
those, and blobs and key files whose object was deleted, durably, once they are older than
``--older-than`` minutes (60 by default), so a store still in progress is never touched. It
prints each leftover removed and records one ``vault.orphans.swept`` audit event with the counts
and names (never key material); ``--dry-run`` lists what would go and changes nothing. Run it
from cron, say daily. Exit status: 0 done (or a dry run), 1 some leftovers could not be removed
or the audit event could not be written (each named), 2 the sweep could not start (nothing was
removed). If most of the key store has no rows, which is what a wrong ``DATABASE_URL`` or a
restore still under way looks like, it refuses (status 2) unless given ``--force``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accord.cli.common import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE, command_group

ACTOR_LABEL = "accord vault rotate-master-key"


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(
        subparsers, "vault", "manage the vault's master key and sweep up interrupted writes"
    )

    new = commands.add_parser(
        "new-master-key",
        help="create a new random master key file, readable by its owner only",
        description=(
            "Write 32 random bytes, base64-encoded, to a new file with permissions 0600. An "
            "existing file is never replaced. Keep it outside ACCORD_DATA_DIR, the blob store "
            "and the key store, and back it up apart from them."
        ),
    )
    new.add_argument("path", metavar="PATH", help="the new key file to create")
    new.set_defaults(handler=handle_new_master_key)

    rotate = commands.add_parser(
        "rotate-master-key",
        help="re-wrap every data key under a new master key, without re-encrypting any data",
        description=(
            "Re-wrap each key file in the key store under the new master key, one file at a "
            "time, each replaced atomically: safe to interrupt and run again. Accord must "
            "already be configured to read with the new key (ACCORD_MASTER_KEY_FILE, or "
            "ACCORD_MASTER_KEY_PREVIOUS_FILES). Exit status: 0 done, 1 some key files could "
            "not be re-wrapped, 2 the rotation could not start."
        ),
    )
    rotate.add_argument(
        "--new-key-file", metavar="PATH", required=True, help="the master key to re-wrap under"
    )
    rotate.add_argument(
        "--old-key-file",
        metavar="PATH",
        action="append",
        default=[],
        help=(
            "a master key the key files are wrapped under now (may be repeated; default: every "
            "configured master key other than the new one)"
        ),
    )
    rotate.set_defaults(handler=handle_rotate)

    sweep = commands.add_parser(
        "sweep",
        help="remove leftovers of interrupted writes: temporary files, unreferenced blobs and keys",
        description=(
            "Remove hidden temporary files and unfinished uploads left by killed writes, and "
            "blobs and key files that no vault object refers to (or whose object was deleted), "
            "once they are older than --older-than minutes, so a store in progress is never "
            "touched. Records one audit event. Exit status: 0 done, 1 some leftovers could not "
            "be removed, 2 the sweep could not start."
        ),
    )
    sweep.add_argument(
        "--dry-run", action="store_true", help="list what would be removed, and change nothing"
    )
    sweep.add_argument(
        "--older-than",
        metavar="MINUTES",
        type=_minutes,
        default=60,
        help=(
            "only remove leftovers untouched for at least this many minutes (default 60); keep "
            "it longer than any store takes to start writing"
        ),
    )
    sweep.add_argument(
        "--force",
        action="store_true",
        help=(
            "sweep even when most of the key store has no vault objects in the database (which "
            "is refused otherwise: it looks like the wrong database or a restore under way)"
        ),
    )
    sweep.set_defaults(handler=handle_sweep)


def _minutes(text: str) -> int:
    try:
        minutes = int(text)
    except ValueError:
        minutes = -1
    if minutes < 0:
        raise argparse.ArgumentTypeError(f"give a whole number of minutes, 0 or more, not {text!r}")
    return minutes


def _fail(command: str, message: str) -> int:
    print(f"accord vault {command}: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def handle_new_master_key(args: argparse.Namespace) -> int:
    from . import keys

    path = Path(args.path)
    try:
        key = keys.write_new_master_key_file(path)
    except FileExistsError:
        return _fail("new-master-key", f"{path} already exists; it was left untouched.")
    except OSError as exc:
        return _fail("new-master-key", f"cannot create {path} ({exc.strerror}).")
    print(f"Created a new vault master key in {path} (id {key.id}, permissions 0600).")
    print(
        "To rotate to it: set ACCORD_MASTER_KEY_FILE to this file, list the current key file "
        "in ACCORD_MASTER_KEY_PREVIOUS_FILES, restart Accord, then run "
        f"`accord vault rotate-master-key --new-key-file {path}`."
    )
    return EXIT_OK


def handle_rotate(args: argparse.Namespace) -> int:
    from django.db import DatabaseError
    from tqdm import tqdm

    from accord.audit.actor import Actor

    from . import keys
    from .exceptions import VaultConfigurationError
    from .rotation import rotate_master_key

    command = "rotate-master-key"
    try:
        new = keys.read_master_key_file(Path(args.new_key_file))
        ring = keys.key_ring()
        old = (
            [keys.read_master_key_file(Path(path)) for path in args.old_key_file]
            if args.old_key_file
            else [key for key_id, key in ring.items() if key_id != new.id]
        )
        keys.keystore_dir()
    except VaultConfigurationError as exc:
        return _fail(command, f"{exc} Nothing was changed.")
    if new.id not in ring:
        return _fail(
            command,
            f"Accord is not configured to read with the new master key {new.id}, so objects "
            "would become unreadable as their keys are re-wrapped. Set ACCORD_MASTER_KEY_FILE "
            f"to {args.new_key_file} (and list the old key file in "
            f"{keys.PREVIOUS_FILES_VARIABLE}), then run this again. Nothing was changed.",
        )

    bar = tqdm(total=0, unit=" keys", desc="Re-wrapping data keys", file=sys.stderr, disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        result = rotate_master_key(
            by=Actor.system(ACTOR_LABEL), new=new, old=old, progress=progress
        )
    except VaultConfigurationError as exc:
        return _fail(command, str(exc))
    except DatabaseError as exc:
        return _fail(command, f"cannot write the audit event to the database ({exc}).")
    finally:
        bar.close()

    print(
        f"Re-wrapped {result.rewrapped} data key(s) under master key {result.new_key_id}; "
        f"{result.already_done} already done; {len(result.failed)} failed."
    )
    if result.gone:
        print(f"{result.gone} key file(s) were deleted while the rotation ran (objects shredded).")
    for name, reason in result.failed:
        print(f"  - {name}: {reason}; it was left as it was.")
    if result.failed:
        print("Fix or restore those key files and run the rotation again.")
        return EXIT_PROBLEM
    print(
        "Every key file is now wrapped under the new master key. The old key can be removed "
        f"from {keys.PREVIOUS_FILES_VARIABLE} (keep it only as long as your backups need it)."
    )
    return EXIT_OK


def handle_sweep(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from botocore.exceptions import BotoCoreError, ClientError
    from django.db import DatabaseError
    from tqdm import tqdm

    from .exceptions import VaultConfigurationError
    from .sweep import NotRecorded, SweepReport, describe_age, sweep

    older_than = timedelta(minutes=args.older_than)
    bar = tqdm(total=0, unit=" files", desc="Sweeping", file=sys.stderr, disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    unrecorded: DatabaseError | None = None
    report: SweepReport
    try:
        report = sweep(
            older_than=older_than, dry_run=args.dry_run, force=args.force, progress=progress
        )
    except NotRecorded as exc:
        report, unrecorded = exc.report, exc.error
    except (VaultConfigurationError, DatabaseError, OSError, BotoCoreError, ClientError) as exc:
        return _fail("sweep", f"{exc} Nothing was removed.")
    finally:
        bar.close()

    age = describe_age(older_than)
    if report.dry_run:
        print(
            f"Dry run: nothing was removed. {len(report.removed)} leftover(s) older than {age} "
            "would be removed."
        )
    elif report.removed or report.failed:
        print(f"Removed {len(report.removed)} leftover(s) older than {age}.")
    else:
        print(f"Nothing to remove: no leftovers older than {age}.")
    for item in report.removed:
        print(f"  - {item}")
    if report.too_recent:
        print(
            f"Left {len(report.too_recent)} newer leftover(s) alone: a store in progress may "
            "still be writing them. A later sweep removes them if they are abandoned."
        )
    if report.failed:
        print(f"Could not remove {len(report.failed)} leftover(s):")
        for item, reason in report.failed:
            print(f"  - {item}; {reason}")
        print("Fix the cause and run the sweep again.")
    if report.audit_seq is not None:
        print(f"Recorded as audit event {report.audit_seq}.")
    if unrecorded is not None:
        print(
            f"accord vault sweep: the leftovers listed were removed, but the audit event could "
            f"not be written to the database ({unrecorded}).",
            file=sys.stderr,
        )
        return EXIT_PROBLEM
    return EXIT_PROBLEM if report.failed else EXIT_OK
