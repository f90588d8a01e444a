"""`accord agreements daily [--today YYYY-MM-DD]`: the agreements' daily sweep, for cron.

Expires every active or suspended agreement whose end date has passed, then reminds the parties
of reviews due soon or overdue (each reminder once). Progress goes to stderr; the summary to
stdout names each agreement expired or reminded about, and each failure.
Exit status: 0 done, 1 some agreements could not be dealt with (each is named; run again once
fixed), 2 the run could not start.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from accord.cli.common import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE, command_group, day_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(subparsers, "agreements", "agreement expiry and review reminders")
    daily = commands.add_parser(
        "daily",
        help="expire agreements past their end date and send review reminders",
        description=(
            "Move every active or suspended agreement whose end date has passed to expired, "
            "telling its parties, then remind the parties of every agreement whose review is "
            "due soon or overdue. Safe to run again: no reminder is sent twice. Exit status: "
            "0 done, 1 some agreements could not be dealt with, 2 the run could not start."
        ),
    )
    daily.add_argument(
        "--today",
        type=day_argument,
        default=None,
        metavar="YYYY-MM-DD",
        help="run as if it were this day (default: today)",
    )
    daily.set_defaults(handler=handle_daily)


@contextmanager
def _progress_bar(desc: str) -> Iterator[Callable[[int, int], None]]:
    from tqdm import tqdm

    bar = tqdm(total=0, unit=" agreements", desc=desc, file=sys.stderr, disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield progress
    finally:
        bar.close()


def handle_daily(args: argparse.Namespace) -> int:
    from django.db import DatabaseError
    from django.utils import timezone

    from .reviews import expire_ended, send_review_reminders, task_actor

    today = args.today or timezone.localdate()
    by = task_actor()

    try:
        with _progress_bar("Expiry") as progress:
            expired = expire_ended(today=today, by=by, progress=progress)
        with _progress_bar("Reviews") as progress:
            reviews = send_review_reminders(today=today, by=by, progress=progress)
    except DatabaseError as exc:
        print(f"accord agreements daily: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE

    print(f"Agreements on {today.isoformat()}:")
    print(f"Expired {len(expired.expired)} agreement(s) past their end date.")
    for item in expired.expired:
        print(f"  - {item}")
    print(
        f"Sent {len(reviews.due)} review-due and {len(reviews.overdue)} review-overdue "
        f"reminder(s); {reviews.already_sent} already sent before."
    )
    for reminder in reviews.reminded:
        print(f"  - {reminder}")
    failed = [*expired.failed, *reviews.failed]
    if failed:
        print(f"Could not deal with {len(failed)} agreement(s):")
        for label, reason in failed:
            print(f"  - {label}: {reason}")
        print("Fix the cause and run again; nothing already done is done twice.")
        return EXIT_PROBLEM
    return EXIT_OK
