"""`accord breaches`: breaches from the server's command line.

    accord breaches remind [--today YYYY-MM-DD]

``remind`` tells every party to a breach's agreement when a breach's ICO deadline (72 hours
from discovery) has passed with no decision recorded, once per breach and clock (safe to run
again; run it daily from cron). Exit status: 0 done; 2 could not run.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

from accord.cli.common import add_remind_command, command_group

if TYPE_CHECKING:
    from .reminders import ReminderRun


def _send(today: dt.date) -> ReminderRun:
    from .reminders import send_breach_reminders

    return send_breach_reminders(today=today)


def _looked_at(run: ReminderRun) -> str:
    return f"{run.breaches} open breach(es)"


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(subparsers, "breaches", "suspected personal data breaches")
    add_remind_command(
        commands,
        name="breaches",
        singular="breach",
        help_text="flag overdue breach steps to every party (each breach's clock once)",
        description=(
            "Tell every party to the agreement when a breach's deadline has passed without "
            "the step (the ICO told, or why not recorded, within 72 hours of discovery). Safe "
            "to run again: each clock of each breach is flagged once. Run it daily from cron."
        ),
        send=_send,
        looked_at=_looked_at,
    )
