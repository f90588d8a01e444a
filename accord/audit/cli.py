"""`accord audit verify` and `accord audit checkpoint`.

verify exits 0 when the chain is intact, 1 when a problem is found, and 2 when it cannot run
as asked (an unreadable checkpoint or key file, no database).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from accord.cli.common import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE, command_group

if TYPE_CHECKING:
    from .verification import VerificationResult


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(subparsers, "audit", "verify and checkpoint the audit chain")

    verify = commands.add_parser(
        "verify",
        help="check that no audit event was changed, removed, reordered or cut off",
        description=(
            "Check every audit event against its hash and its link to the one before, and the "
            "signed checkpoints. With --checkpoint, also prove that the log still holds "
            "everything up to that signed checkpoint. Exit status: 0 intact, 1 a problem was "
            "found, 2 the check could not run."
        ),
    )
    verify.add_argument(
        "--checkpoint", metavar="FILE", help="a checkpoint JSON file kept outside Accord"
    )
    verify.add_argument(
        "--public-key",
        metavar="FILE",
        help="the PEM public key to trust for signatures (default: Accord's own signing key)",
    )
    verify.add_argument(
        "--bundle",
        metavar="FILE",
        help="check a downloaded audit bundle offline, without the database",
    )
    verify.set_defaults(handler=handle_verify)

    checkpoint = commands.add_parser(
        "checkpoint",
        help="sign the current head of the audit chain now",
        description="Sign the newest audit event's hash, store the checkpoint and audit it.",
    )
    checkpoint.add_argument(
        "--output", metavar="FILE", help="also write the checkpoint JSON here ('-' for stdout)"
    )
    checkpoint.set_defaults(handler=handle_checkpoint)


def _fail(command: str, message: str) -> int:
    print(f"accord audit {command}: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def handle_verify(args: argparse.Namespace) -> int:
    if getattr(args, "bundle", None):
        from .bundle_cli import handle_verify_bundle

        return handle_verify_bundle(args)
    from django.db import DatabaseError
    from tqdm import tqdm

    from .checkpoints import CheckpointFileError, load_checkpoint_document
    from .signing import SigningKeyError, load_public_key_file, public_key_pem
    from .verification import VerificationInputError, verify_chain

    try:
        checkpoint = load_checkpoint_document(args.checkpoint) if args.checkpoint else None
        key_pem = public_key_pem(load_public_key_file(args.public_key)) if args.public_key else None
    except (CheckpointFileError, SigningKeyError) as exc:
        return _fail("verify", str(exc))

    bar = tqdm(total=0, unit=" events", desc="Checking audit events", file=sys.stderr, disable=None)

    def progress(checked: int, total: int) -> None:
        bar.total = total
        bar.n = checked
        bar.refresh()

    try:
        result = verify_chain(checkpoint=checkpoint, public_key_pem=key_pem, progress=progress)
    except VerificationInputError as exc:
        return _fail("verify", str(exc))
    except DatabaseError as exc:
        return _fail("verify", f"cannot read the audit log from the database ({exc}).")
    finally:
        bar.close()

    out = sys.stdout
    if result.ok:
        _say_intact(out, result)
    else:
        _say_broken(out, result)
    for note in result.notes:
        print(f"Note: {note}", file=out)
    return EXIT_OK if result.ok else EXIT_PROBLEM


def _say_intact(out: TextIO, result: VerificationResult) -> None:
    from .verification import human_time

    if result.events_checked == 0:
        print("The audit log is intact: it has no events yet.", file=out)
    else:
        print(
            f"The audit log is intact: {_events(result.events_checked)} checked, from event 1 "
            f"to event {result.head_seq}.",
            file=out,
        )
        print(f"Newest event: {result.head_seq}, hash {result.head_hash}", file=out)
    if result.checkpoint_seq is not None:
        print(
            f"It still holds everything up to the checkpoint of event {result.checkpoint_seq} "
            f"signed at {human_time(result.checkpoint_signed_at or '')}.",
            file=out,
        )
    if result.signatures_checked:
        print(
            f"{result.signatures_checked} checkpoint signature(s) checked with key "
            f"{result.key_id}.",
            file=out,
        )
    if result.signatures_skipped and result.key_id is not None:
        print(
            f"{result.signatures_skipped} checkpoint(s) signed by another key were not checked.",
            file=out,
        )


def _say_broken(out: TextIO, result: VerificationResult) -> None:
    print("PROBLEM: the audit log has been tampered with or damaged.", file=out)
    if result.first_broken_seq is not None:
        print(f"The first broken link is at event {result.first_broken_seq}.", file=out)
    for problem in result.problems:
        print(f"  - {problem}", file=out)
    print(f"{_events(result.events_checked)} checked.", file=out)


def _events(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"


def handle_checkpoint(args: argparse.Namespace) -> int:
    from django.db import DatabaseError

    from .actor import Actor
    from .checkpoints import checkpoint_json, create_checkpoint
    from .signing import SigningKeyError

    output: str | None = args.output
    if output and output != "-":
        problem = _unwritable(Path(output))
        if problem:
            return _fail("checkpoint", problem)
    try:
        checkpoint = create_checkpoint(by=Actor.system("accord audit checkpoint"))
    except SigningKeyError as exc:
        return _fail("checkpoint", str(exc))
    except DatabaseError as exc:
        return _fail("checkpoint", f"cannot write to the database ({exc}).")

    summary = sys.stderr if output == "-" else sys.stdout
    print(
        f"Signed checkpoint of event {checkpoint.seq}: hash {checkpoint.head_hash}, "
        f"key {checkpoint.key_id}.",
        file=summary,
    )
    if output == "-":
        sys.stdout.write(checkpoint_json(checkpoint))
    elif output:
        try:
            Path(output).write_text(checkpoint_json(checkpoint), encoding="utf-8")
        except OSError as exc:
            return _fail(
                "checkpoint",
                f"the checkpoint was signed but could not be written to {output} "
                f"({exc.strerror}); download it from the checkpoints page instead.",
            )
        print(f"Checkpoint written to {output}", file=summary)
    return EXIT_OK


def _unwritable(path: Path) -> str | None:
    if path.is_dir():
        return f"{path} is a folder; give a file name for the checkpoint."
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        return f"cannot write {path}: the folder {folder} does not exist."
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"cannot write {path}: permission denied."
    return None
