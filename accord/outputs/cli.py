"""`accord outputs`: outputs from the server's command line.

    accord outputs remind [--today YYYY-MM-DD]

``remind`` flags each output whose next version is overdue to the organisation that makes it
and to everyone it is returned to, once per due date (safe to run again; run it daily from
cron). Exit status: 0 done; 2 could not run.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from accord.cli.common import EXIT_OK, EXIT_UNUSABLE, command_group
from accord.outcomes.cli import _day


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(subparsers, "outputs", "outputs returned to contributors")
    remind = commands.add_parser(
        "remind",
        help="flag overdue outputs to their makers and readers (each due date once)",
        description=(
            "Tell the organisation that makes each overdue output, and every organisation it "
            "is returned to. Safe to run again: each due date is flagged once. Run it daily "
            "from cron."
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

    from .reminders import send_output_reminders

    out = out or sys.stdout
    today = args.today or timezone.localdate()
    try:
        run = send_output_reminders(today=today)
    except DatabaseError as exc:
        print(f"accord outputs remind: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(
        f"Output reminders on {today:%Y-%m-%d}: looked at {run.outputs} output(s); sent "
        f"{run.sent} overdue reminder(s); {run.already_sent} already sent before.",
        file=out,
    )
    for line in run.reminded:
        print(f"  - {line}", file=out)
    return EXIT_OK
