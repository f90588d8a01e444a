"""The agreements' daily sweep: expire agreements whose end date has passed, and remind the
parties of reviews that are due soon or overdue.

Run once a day (``accord agreements daily``). Both halves are safe to run again: an expired
agreement is no longer active or suspended, and each review reminder — one per agreement,
review date and state (due, then overdue) — is recorded under a unique key before it is sent,
in the same transaction, so a second run, or two runs at once, never send it twice. A new review
date (an amended agreement) gets its own reminders.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.audit.exceptions import Refused
from accord.notifications.models import SentReminder

from . import actions, expiry, lifecycle, notices
from .models import Agreement

logger = logging.getLogger(__name__)

ACTOR_NAME = "agreement-reviews"
IN_FORCE = ("active", "suspended")  # the statuses that can expire or fall due for review

Progress = Callable[[int, int], None]


def task_actor() -> Actor:
    return Actor.task(ACTOR_NAME)


@dataclass(frozen=True)
class Reminded:
    agreement_id: str
    title: str
    state: lifecycle.ReviewState
    review_date: dt.date
    organisations: int

    def __str__(self) -> str:
        when = "was due" if self.state == "overdue" else "is due"
        return f"“{self.title}”: review {when} by {notices.describe(self.review_date)}"


@dataclass
class ReviewSummary:
    reminded: list[Reminded] = field(default_factory=list)
    already_sent: int = 0  # reminders sent on an earlier run, not sent again
    failed: list[tuple[str, str]] = field(default_factory=list)  # (agreement, what went wrong)

    @property
    def due(self) -> list[Reminded]:
        return [r for r in self.reminded if r.state == "due"]

    @property
    def overdue(self) -> list[Reminded]:
        return [r for r in self.reminded if r.state == "overdue"]


@dataclass(frozen=True)
class Expired:
    agreement_id: str
    title: str
    end_date: dt.date

    def __str__(self) -> str:
        return f"“{self.title}”: ended {notices.describe(self.end_date)}"


@dataclass
class ExpirySummary:
    expired: list[Expired] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (agreement, what went wrong)


def reminder_key(agreement: Agreement, review_date: dt.date, state: str) -> str:
    return f"agreement-review:{agreement.pk}:{review_date.isoformat()}:{state}"


def _in_force() -> list[Agreement]:
    return list(Agreement.objects.filter(status__in=IN_FORCE).order_by("title", "pk"))


def _label(agreement: Agreement) -> str:
    return f"“{agreement.title}” ({agreement.pk})"


def expire_ended(
    *, today: dt.date, by: Actor | None = None, progress: Progress | None = None
) -> ExpirySummary:
    """Expire every active or suspended agreement whose end date is before ``today``."""
    by = by or task_actor()
    summary = ExpirySummary()
    candidates = _in_force()
    for done, agreement in enumerate(candidates, start=1):
        try:
            end = expiry.end_date_of(agreement)
            if end is not None and end < today:
                expiry.expire(by=by, agreement=agreement, today=today)
                summary.expired.append(Expired(str(agreement.pk), agreement.title, end))
        except Refused as exc:  # moved by someone else meanwhile; recorded as refused
            summary.failed.append((_label(agreement), str(exc)))
        except Exception as exc:  # one bad agreement must not stop the others
            logger.exception("Could not expire agreement %s", agreement.pk)
            summary.failed.append((_label(agreement), str(exc) or type(exc).__name__))
        if progress:
            progress(done, len(candidates))
    return summary


def send_review_reminders(
    *, today: dt.date, by: Actor | None = None, progress: Progress | None = None
) -> ReviewSummary:
    """Remind every party of each active or suspended agreement whose review is due soon or
    overdue, once per agreement, review date and state."""
    by = by or task_actor()
    summary = ReviewSummary()
    candidates = _in_force()
    for done, agreement in enumerate(candidates, start=1):
        try:
            _remind(by, agreement, today, summary)
        except Exception as exc:  # one bad agreement must not stop the others
            logger.exception("Could not send review reminders for agreement %s", agreement.pk)
            summary.failed.append((_label(agreement), str(exc) or type(exc).__name__))
        if progress:
            progress(done, len(candidates))
    return summary


def _remind(by: Actor, agreement: Agreement, today: dt.date, summary: ReviewSummary) -> None:
    term = actions.document_of(agreement).term
    review_date = term.review_date if term else None
    state = lifecycle.review_state(review_date, today)
    if review_date is None or state == "not_due":
        return
    key = reminder_key(agreement, review_date, state)
    if SentReminder.objects.filter(key=key).exists():
        summary.already_sent += 1
        return
    try:
        with transaction.atomic():
            # The key first: a run racing this one fails here and sends nothing.
            SentReminder.objects.create(key=key)
            sent = notices.remind_review(
                by=by, agreement=agreement, state=state, review_date=review_date
            )
            record(
                by=by,
                action="agreement.review_reminded",
                target=f"agreement:{agreement.pk}",
                details={
                    "state": state,
                    "review_date": review_date.isoformat(),
                    "organisations": sent,
                },
            )
    except IntegrityError:
        summary.already_sent += 1
        return
    summary.reminded.append(Reminded(str(agreement.pk), agreement.title, state, review_date, sent))
