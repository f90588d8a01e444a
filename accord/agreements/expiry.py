"""Ending an agreement whose term is over: active or suspended agreements whose end date has
passed move to expired, through the lifecycle, audited and notified like every other move."""

from __future__ import annotations

import datetime as dt

from accord.audit.actions import audited
from accord.audit.actor import Actor
from accord.audit.exceptions import Refused

from . import actions
from .models import Agreement


def end_date_of(agreement: Agreement) -> dt.date | None:
    term = actions.document_of(agreement).term
    return term.end_date if term else None


@audited("agreement.expired")
def expire(*, by: Actor, agreement: Agreement, today: dt.date) -> Agreement:
    """Move ``agreement`` to expired: only once its end date is before ``today``."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    end = end_date_of(agreement)
    if end is None:
        raise Refused(
            "The agreement has no end date, so it does not expire; end it by terminating it.",
            target=f"agreement:{agreement.pk}",
        )
    if end >= today:
        raise Refused(
            f"The agreement runs until {end.day} {end:%B %Y}; it expires only after that.",
            target=f"agreement:{agreement.pk}",
        )
    return actions._move(by, agreement, "expire", end_date=end.isoformat())
