"""`accord outcomes`: outcome reports from the server's command line.

    accord outcomes remind [--today YYYY-MM-DD]

``remind`` flags each overdue outcome report to the recipient that owes it and to the
organisations it is owed to, once per due date (safe to run again; run it daily from cron).
Exit status: 0 done; 2 could not run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TextIO

from accord.cli.common import EXIT_OK, EXIT_UNUSABLE, command_group


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date; give it like 2026-03-02."
        ) from exc


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(subparsers, "outcomes", "outcomes recipients report back")
    remind = commands.add_parser(
        "remind",
        help="flag overdue outcome reports to recipients and providers (each due date once)",
        description=(
            "Tell each recipient whose outcome report under an active agreement is overdue, "
            "and the organisations it is owed to. Safe to run again: each due date is flagged "
            "once. Run it daily from cron."
        ),
    )
    remind.add_argument(
        "--today",
        type=_day,
        default=None,
        metavar="YYYY-MM-DD",
        help="run as if it were this day (default: today)",
    )
    remind.set_defaults(handler=handle_remind)


def handle_remind(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from django.db import DatabaseError
    from django.utils import timezone

    from .reminders import send_outcome_reminders

    out = out or sys.stdout
    today = args.today or timezone.localdate()
    try:
        run = send_outcome_reminders(today=today)
    except DatabaseError as exc:
        print(f"accord outcomes remind: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(
        f"Outcome reminders on {today:%Y-%m-%d}: looked at {run.commitments} commitment(s); "
        f"sent {run.sent} overdue reminder(s); {run.already_sent} already sent before.",
        file=out,
    )
    for line in run.reminded:
        print(f"  - {line}", file=out)
    return EXIT_OK
