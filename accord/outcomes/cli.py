"""`accord outcomes`: outcome reports from the server's command line.

    accord outcomes remind [--today YYYY-MM-DD]

``remind`` flags each overdue outcome report to the recipient that owes it and to the
organisations it is owed to, once per due date (safe to run again; run it daily from cron).
Exit status: 0 done; 2 could not run.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

from accord.cli.common import add_remind_command, command_group

if TYPE_CHECKING:
    from .reminders import ReminderRun


def _send(today: dt.date) -> ReminderRun:
    from .reminders import send_outcome_reminders

    return send_outcome_reminders(today=today)


def _looked_at(run: ReminderRun) -> str:
    return f"{run.commitments} commitment(s)"


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(subparsers, "outcomes", "outcomes recipients report back")
    add_remind_command(
        commands,
        name="outcomes",
        help_text="flag overdue outcome reports to recipients and providers (each due date once)",
        description=(
            "Tell each recipient whose outcome report under an active agreement is overdue, "
            "and the organisations it is owed to. Safe to run again: each due date is flagged "
            "once. Run it daily from cron."
        ),
        send=_send,
        looked_at=_looked_at,
    )
