"""`accord audit verify --bundle FILE [--public-key FILE]`: check a downloaded audit bundle
offline. Nothing here touches the database; exit statuses are those of `accord audit verify`
(0 intact, 1 a problem was found, 2 the check could not run)."""

from __future__ import annotations

import argparse
import sys

from accord.cli.common import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE


def _fail(message: str) -> int:
    print(f"accord audit verify: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def handle_verify_bundle(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .offline import LIMITS, BundleError, load_bundle, verify_bundle
    from .signing import SigningKeyError, load_public_key_file, public_key_pem

    if getattr(args, "checkpoint", None):
        return _fail(
            "give --bundle or --checkpoint, not both: a bundle is checked offline, a checkpoint "
            "against the full chain in the database."
        )
    try:
        document = load_bundle(args.bundle)
        key_pem = public_key_pem(load_public_key_file(args.public_key)) if args.public_key else None
    except (BundleError, SigningKeyError) as exc:
        return _fail(str(exc))

    bar = tqdm(total=0, unit=" events", desc="Checking the bundle", file=sys.stderr, disable=None)

    def progress(checked: int, total: int) -> None:
        bar.total = total
        bar.n = checked
        bar.refresh()

    try:
        result = verify_bundle(document, public_key_pem=key_pem, progress=progress)
    except BundleError as exc:
        return _fail(str(exc))
    finally:
        bar.close()

    out = sys.stdout
    whose = f" of {result.organisation}" if result.organisation else ""
    if result.key_from_bundle:
        print(f"WARNING: {result.notes[0]}", file=out)
    if result.ok:
        print(f"The audit bundle{whose} is intact.", file=out)
        print("What this proves:", file=out)
        if result.events_checked:
            print(
                f"  - {_events(result.events_checked)} (numbers {result.first_seq} to "
                f"{result.last_seq}) are exactly as recorded: each hash recomputes from its "
                "fields.",
                file=out,
            )
        else:
            print("  - The bundle holds no events.", file=out)
        print(
            f"  - {result.linked_pairs} link(s) between consecutive events are unbroken.",
            file=out,
        )
        print(
            f"  - {result.checkpoints_checked} checkpoint signature(s) are valid under key "
            f"{result.key_id}.",
            file=out,
        )
        print(
            f"  - {_events(result.anchored_events)} are tied to a signed checkpoint through "
            "unbroken links, so they cannot have been rewritten since it was signed.",
            file=out,
        )
    else:
        print(f"PROBLEM: the audit bundle{whose} has been tampered with or damaged.", file=out)
        for problem in result.problems:
            print(f"  - {problem}", file=out)
        print(f"{_events(result.events_checked)} checked.", file=out)
    print(f"What it cannot prove: {LIMITS}", file=out)
    return EXIT_OK if result.ok else EXIT_PROBLEM


def _events(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"
