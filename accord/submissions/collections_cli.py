"""`accord submit` and `accord collections`: returns and collections from the server's
command line, for operators and scripts.

    accord submit --collection SLUG --period PERIOD --as EMAIL [--organisation NAME_OR_CODE]
                  [--caveats TEXT] [--no-wait] FILE
    accord collections list
    accord collections remind [--now ISO]

``accord submit`` acts as the person named by ``--as``, through their membership of the
organisation sending the return, with exactly the rules the upload page applies. It stores the
file (encrypted), queues the check and then, unless ``--no-wait``, sees the check through:
the command runs the queued check itself, in this process (a worker elsewhere may take it
first; then it follows that worker), drawing a progress bar on a terminal. Exit status: 0
accepted, 1 rejected (the reason and first problems are printed), 2 could not submit (the
message says why; nothing was stored) or the check did not finish. With ``--no-wait`` it prints
the submission's id and exits 0 once the file is received.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from accord.cli.common import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE, command_group

if TYPE_CHECKING:
    from accord.audit.actor import Actor
    from accord.organisations.models import Membership
    from accord.submissions.models import Collection, Submission
    from accord.tasks.models import TaskProgress

# How many of the problems found are printed when a return is rejected.
PROBLEMS_PRINTED = 10


class CannotSubmit(Exception):
    """Why the return could not be sent, in words for the person running the command."""


def register(subparsers: argparse._SubParsersAction) -> None:
    submit = subparsers.add_parser(
        "submit",
        help="send a return to a collection from a file, as a member of a contributor",
        description=(
            "Send a file as one organisation's return to a collection for a period, acting as "
            "the person named (with their roles there), then wait for the check. Exit status "
            "0: accepted; 1: rejected; 2: could not be sent, or the check did not finish."
        ),
    )
    submit.add_argument("--collection", required=True, metavar="SLUG", help="the collection")
    submit.add_argument(
        "--period",
        required=True,
        help="the reporting period: a date in it (2026-03-02), a month (2026-03) or a "
        "financial year (2025-26), as the collection's schedule needs",
    )
    submit.add_argument(
        "--as",
        dest="email",
        required=True,
        metavar="EMAIL",
        help="the person sending it: a member of the contributing organisation",
    )
    submit.add_argument(
        "--organisation",
        metavar="NAME_OR_CODE",
        help="the organisation it is sent for, by name, GSS or ODS code (needed only when the "
        "person can send for more than one)",
    )
    submit.add_argument("--caveats", default="", help="what people using the data should know")
    submit.add_argument(
        "--no-wait",
        action="store_true",
        help="do not wait for the check: print the submission id and stop",
    )
    submit.add_argument("file", metavar="FILE", help="the CSV, XLSX or ODS file to send")
    submit.set_defaults(handler=handle_submit)

    commands = command_group(subparsers, "collections", "collections and return reminders")
    listing = commands.add_parser("list", help="every collection: who runs it, to what standard")
    listing.set_defaults(handler=handle_list)
    remind = commands.add_parser(
        "remind",
        help="remind contributors of returns due soon or late (each reminder once)",
        description=(
            "Tell contributors whose return is due within a day, or late, and the organisations "
            "running the collections of late returns. Safe to run again: no reminder is sent "
            "twice. Run it hourly or daily from cron."
        ),
    )
    remind.add_argument(
        "--now",
        type=_moment,
        default=None,
        metavar="ISO",
        help="run as if it were this moment, e.g. 2026-03-02T09:00 (default: now)",
    )
    remind.set_defaults(handler=handle_remind)


def _moment(text: str) -> dt.datetime:
    from django.utils import timezone

    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a moment; give it like 2026-03-02T09:00 or 2026-03-02."
        ) from exc
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


# accord submit ----------------------------------------------------------------------------------


def handle_submit(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from accord.audit.exceptions import Refused
    from accord.organisations.actors import actor_for
    from accord.submissions import actions, periods

    out = out or sys.stdout
    try:
        collection = _collection(args.collection)
        try:
            period = periods.parse(collection.schedule, args.period)  # type: ignore[arg-type]
        except ValueError as exc:
            raise CannotSubmit(str(exc)) from None
        membership = _membership(args.email, args.organisation, collection)
        path = Path(args.file)
        if not path.is_file():
            raise CannotSubmit(f"There is no file at {path}.")
        by = actor_for(membership.user, membership)
        with path.open("rb") as handle:
            submission = actions.receive(
                by=by,
                collection=collection,
                period=period,
                filename=path.name,
                source=iter(lambda: handle.read(1024 * 1024), b""),
                caveats=args.caveats,
                via="cli",
            )
    except (CannotSubmit, Refused) as refusal:
        message = refusal.reason if isinstance(refusal, Refused) else str(refusal)
        print(f"accord submit: {message}", file=sys.stderr)
        return EXIT_UNUSABLE
    label = periods.label(collection.schedule, submission.period)  # type: ignore[arg-type]
    print(
        f"Received {submission.filename} from {submission.organisation.name} for {label} "
        f"(submission {submission.pk}).",
        file=out,
    )
    if args.no_wait:
        print("The check is queued; follow it on the submission's page.", file=out)
        return EXIT_OK
    progress = see_through(submission)
    submission.refresh_from_db()
    return report(submission, by, progress, out=out)


def _collection(slug: str) -> Collection:
    from accord.submissions.models import Collection

    found = Collection.objects.select_related("owner").filter(slug=slug).first()
    if found is None:
        raise CannotSubmit(
            f"There is no collection called '{slug}'. Run `accord collections list` to see them."
        )
    return found


def _membership(email: str, organisation: str | None, collection: Collection) -> Membership:
    """The membership the person named acts through: of ``organisation`` if given, otherwise
    their only one, or their only one that contributes to ``collection``."""
    from accord.cli.common import CannotAct, acting_membership
    from accord.submissions.models import Contributor

    sending = set(
        Contributor.objects.filter(collection=collection, is_active=True).values_list(
            "organisation_id", flat=True
        )
    )
    try:
        return acting_membership(email, organisation, fits=lambda m: m.organisation_id in sending)
    except CannotAct as exc:
        raise CannotSubmit(str(exc)) from None


def see_through(submission: Submission, *, out: TextIO | None = None) -> TaskProgress | None:
    """Wait for ``submission``'s check to end and return its progress record (the compilation
    an accepted return queues is left to the workers)."""
    from accord.tasks.cli import see_through as through

    submission.refresh_from_db(fields=["progress"])  # set after the row was made
    return through(submission.progress_id, out=out, bar_name="accord-submit-bar")


def report(submission: Submission, by: Actor, progress: TaskProgress | None, *, out: TextIO) -> int:
    """Print what came of the check; the exit status for it."""
    from accord.audit.exceptions import NotPermitted
    from accord.submissions import queries, transitions

    state = submission.state
    if state in ("received", "validating"):
        why = progress.message if progress is not None and progress.message else ""
        print(
            f"The check did not finish ({transitions.LABELS[state].lower()}). {why}".strip(),
            file=sys.stderr,
        )
        return EXIT_UNUSABLE
    print(f"{transitions.LABELS[state]}: {_counts(submission)}", file=out)
    if submission.reason:
        print(submission.reason, file=out)
    for caveat in submission.automatic_caveats:
        print(f"Caveat: {caveat}", file=out)
    try:
        problems = queries.problems_of(submission, by=by)
    except NotPermitted as refusal:
        print(f"The problems cannot be shown: {refusal.reason}", file=out)
        problems = None
    if problems is not None and problems.height:
        shown = problems.head(PROBLEMS_PRINTED)
        print(f"First {shown.height} of {problems.height:,} problems:", file=out)
        for row in shown.iter_rows(named=True):
            print("  - " + _problem(row), file=out)
    return EXIT_OK if state == "accepted" else EXIT_PROBLEM


def _counts(submission: Submission) -> str:
    return (
        f"{submission.rows:,} rows, {submission.valid_rows:,} valid, "
        f"{submission.errors:,} errors, {submission.warnings:,} warnings."
    )


def _problem(row: dict[str, str | None]) -> str:
    """One problem as the report names it: row, column (and its letter), severity, message."""
    column = row.get("column") or row.get("field") or ""
    if column and row.get("letter"):
        column = f"{column} ({row['letter']})"
    where = ", ".join(p for p in (f"row {row['row']}" if row.get("row") else "", column) if p)
    severity = f"{row['severity']}: " if row.get("severity") else ""
    return f"{where}: {severity}{row.get('message') or row.get('rule') or ''}".lstrip(": ")


# accord collections -----------------------------------------------------------------------------


def handle_list(args: argparse.Namespace) -> int:
    from accord.submissions import periods
    from accord.submissions.models import Collection

    found = list(Collection.objects.select_related("owner").order_by("slug"))
    if not found:
        print("There are no collections yet.")
        return EXIT_OK
    rows = [
        (c.slug, c.name, c.owner.name, c.standard_ref, periods.SCHEDULES.get(c.schedule, ""))
        for c in found
    ]
    header = ("SLUG", "NAME", "RUN BY", "STANDARD", "SCHEDULE")
    widths = [max(len(str(r[n])) for r in [header, *rows]) for n in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
    return EXIT_OK


def handle_remind(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from accord.submissions.reminders import send_return_reminders

    now = args.now or timezone.now()
    run = send_return_reminders(now=now)
    print(
        f"Return reminders at {timezone.localtime(now):%Y-%m-%d %H:%M}: looked at "
        f"{len(run.collections)} collection(s); sent {run.due} due and {run.late} late "
        f"reminder(s); {run.already_sent} already sent before."
    )
    return EXIT_OK
