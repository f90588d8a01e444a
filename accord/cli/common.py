"""What the `accord` subcommands share: exit statuses and the shape of a command group."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from typing import Any, Protocol, TextIO, TypeVar

EXIT_OK = 0  # done, or intact
EXIT_PROBLEM = 1  # ran, and found or left something wrong (each named in the output)
EXIT_UNUSABLE = 2  # could not run: bad input or set-up; nothing was changed


def command_group(
    subparsers: argparse._SubParsersAction, name: str, help_text: str
) -> argparse._SubParsersAction:
    """`accord NAME COMMAND ...`: a group whose bare name prints its help and exits 2."""
    parser = subparsers.add_parser(name, help=help_text)
    parser.set_defaults(handler=lambda args: parser.print_help() or EXIT_UNUSABLE)
    return parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND")


def day_argument(text: str) -> dt.date:
    """An ISO date given on the command line, or a plain message saying how to write one."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date; give it as YYYY-MM-DD, for example 2026-04-01."
        ) from exc


class CannotAct(ValueError):
    """The person named on the command line cannot act as asked (the message says why)."""


def acting_membership(
    email: str,
    organisation: str | None,
    *,
    fits: Callable[[Any], bool] | None = None,
) -> Any:
    """The membership through which the person with ``email`` acts on the command line: the
    one of ``organisation`` (its name, GSS or ODS code) if given, otherwise their only one, or
    their only one that ``fits`` the command. ``CannotAct`` says why not, in plain words."""
    from django.db.models import Q

    from accord.organisations.models import User
    from accord.organisations.queries import memberships_of

    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        raise CannotAct(f"Nobody with the email address {email} can use Accord.")
    memberships = memberships_of(user)
    if organisation:
        text = organisation.strip()
        chosen = memberships.filter(
            Q(organisation__name__iexact=text)
            | Q(organisation__gss_code__iexact=text)
            | Q(organisation__ods_code__iexact=text)
        ).first()
        if chosen is None:
            raise CannotAct(f"{email} is not a member of an organisation called {text}.")
        return chosen
    every = list(memberships)
    if not every:
        raise CannotAct(f"{email} is not a member of any organisation on Accord.")
    if len(every) == 1:
        return every[0]
    fitting = [m for m in every if fits(m)] if fits is not None else []
    if len(fitting) == 1:
        return fitting[0]
    names = ", ".join(m.organisation.name for m in fitting or every)
    raise CannotAct(
        f"{email} can act for more than one organisation ({names}); say which with --organisation."
    )


class ReminderRun(Protocol):
    sent: int
    already_sent: int
    reminded: list[str]


Run = TypeVar("Run", bound=ReminderRun)


def add_remind_command(
    commands: argparse._SubParsersAction,
    *,
    name: str,
    help_text: str,
    description: str,
    send: Callable[[dt.date], Run],
    looked_at: Callable[[Run], str],
    singular: str = "",
) -> None:
    """A daily, idempotent ``remind`` subcommand with ``--today``: ``send(today)`` flags what is
    overdue (each due date once) and returns its run; this prints what it did. Exit status 0,
    or 2 when the database cannot be used. ``singular`` names one of them in the summary line
    (default: ``name`` less its last letter)."""

    def handle(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
        from django.db import DatabaseError
        from django.utils import timezone

        out = out or sys.stdout
        today = args.today or timezone.localdate()
        try:
            run = send(today)
        except DatabaseError as exc:
            print(f"accord {name} remind: {exc}", file=sys.stderr)
            return EXIT_UNUSABLE
        print(
            f"{(singular or name[:-1]).capitalize()} reminders on {today:%Y-%m-%d}: looked at "
            f"{looked_at(run)}; sent {run.sent} overdue reminder(s); {run.already_sent} already "
            "sent before.",
            file=out,
        )
        for line in run.reminded:
            print(f"  - {line}", file=out)
        return EXIT_OK

    remind = commands.add_parser("remind", help=help_text, description=description)
    remind.add_argument(
        "--today",
        type=day_argument,
        default=None,
        metavar="YYYY-MM-DD",
        help="run as if it were this day (default: today)",
    )
    remind.set_defaults(handler=handle)
