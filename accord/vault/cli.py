"""`accord vault new-master-key` and `accord vault rotate-master-key`.

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
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accord.cli.common import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE, command_group

ACTOR_LABEL = "accord vault rotate-master-key"


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(subparsers, "vault", "manage the vault's master key")

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
