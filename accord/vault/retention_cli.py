"""`accord retention run [--dry-run]`: crypto-shred every vault object past its retention
deadline, for cron.

Progress goes to stderr; the summary to stdout names each object deleted (or, with
``--dry-run``, that would be), each expired object kept under legal hold, and each failure.
Exit status: 0 every expired, unheld object was deleted (or a dry run), 1 some could not be
deleted (each is named; run again once fixed), 2 the run could not start.
"""

from __future__ import annotations

import argparse
import sys

from accord.cli.common import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE, command_group


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(subparsers, "retention", "enforce retention deadlines")
    run = commands.add_parser(
        "run",
        help="crypto-shred every vault object past its retention deadline",
        description=(
            "Destroy the key and data of every vault object whose retention deadline has "
            "passed, unless it is under legal hold, and record a deletion certificate for each "
            "in the audit log. Exit status: 0 done, 1 some objects could not be deleted, 2 the "
            "run could not start."
        ),
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be deleted, and change and record nothing",
    )
    run.set_defaults(handler=handle_run)


def handle_run(args: argparse.Namespace) -> int:
    from django.db import DatabaseError
    from tqdm import tqdm

    from .exceptions import VaultConfigurationError
    from .retention import run

    bar = tqdm(total=0, unit=" objects", desc="Retention", file=sys.stderr, disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        report = run(dry_run=args.dry_run, progress=progress)
    except (VaultConfigurationError, DatabaseError) as exc:
        print(f"accord retention run: {exc} Nothing was deleted.", file=sys.stderr)
        return EXIT_UNUSABLE
    finally:
        bar.close()

    if report.dry_run:
        print(f"Dry run: nothing was deleted. {len(report.deleted)} object(s) would be deleted.")
    else:
        print(f"Deleted {len(report.deleted)} object(s) past their retention deadline.")
    for item in report.deleted:
        print(f"  - {item}")
    if report.held:
        print(f"Kept {len(report.held)} expired object(s) under legal hold:")
        for item in report.held:
            print(f"  - {item}; held: {item.hold_reason}")
    if report.reminders and (report.reminders.reminded or report.reminders.overdue):
        print(
            f"Copies held outside Accord: {report.reminders.reminded} recipient(s) reminded of a "
            f"deletion deadline; {report.reminders.overdue} copy(ies) flagged overdue."
        )
    if report.withdrawn:
        print(
            f"Destroyed the results of {report.withdrawn} linkage job(s) made from data that "
            "has since been deleted."
        )
    if report.failed:
        print(f"Could not delete {len(report.failed)} object(s):")
        for item, reason in report.failed:
            print(f"  - {item}: {reason}")
        print("Fix the cause and run again; objects already deleted are not touched twice.")
        return EXIT_PROBLEM
    return EXIT_OK
