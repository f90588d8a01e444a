"""`accord outputs`: outputs from the server's command line.

    accord outputs remind [--today YYYY-MM-DD]

``remind`` flags each output whose next version is overdue to the organisation that makes it
and to everyone it is returned to, once per due date (safe to run again; run it daily from
cron). Exit status: 0 done; 2 could not run.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

from accord.cli.common import add_remind_command, command_group

if TYPE_CHECKING:
    from .reminders import ReminderRun


def _send(today: dt.date) -> ReminderRun:
    from .reminders import send_output_reminders

    return send_output_reminders(today=today)


def _looked_at(run: ReminderRun) -> str:
    return f"{run.outputs} output(s)"


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(subparsers, "outputs", "outputs returned to contributors")
    add_remind_command(
        commands,
        name="outputs",
        help_text="flag overdue outputs to their makers and readers (each due date once)",
        description=(
            "Tell the organisation that makes each overdue output, and every organisation it "
            "is returned to. Safe to run again: each due date is flagged once. Run it daily "
            "from cron."
        ),
        send=_send,
        looked_at=_looked_at,
    )
