"""Reading the audit log: an organisation's events, CSV export, checkpoints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from .chain import HASHED_FIELDS, timestamp
from .models import AuditCheckpoint, AuditEvent

# Every hashed field but the previous hash (implied by the row before), then the hash.
CSV_COLUMNS = (*(f for f in HASHED_FIELDS if f != "prev_hash"), "hash")
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def events_for_organisation(
    org_id: str,
    *,
    action: str | None = None,
    actor: str | None = None,
    outcome: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Events by or about an organisation (its own actions, and actions on its records),
    newest first.

    ``action``: part of the action name, any case ("signed_in" finds "auth.signed_in").
    ``actor``: part of the actor's label (an email address), any case.
    ``since``/``until``: a datetime is taken as is; a date means from the start of that day /
    to the end of that day, in the site's time zone.
    """
    if not org_id:
        return AuditEvent.objects.none()  # "" would match every event without an organisation
    found = AuditEvent.objects.filter(Q(organisation=org_id) | Q(subject_organisation=org_id))
    if action:
        found = found.filter(action__icontains=action)
    if actor:
        found = found.filter(actor_label__icontains=actor)
    if outcome:
        found = found.filter(outcome=outcome)
    if since is not None:
        found = found.filter(occurred_at__gte=_moment(since, end_of_day=False))
    if until is not None:
        if isinstance(until, datetime):
            found = found.filter(occurred_at__lte=_moment(until, end_of_day=False))
        else:
            found = found.filter(occurred_at__lt=_moment(until, end_of_day=True))
    return found.order_by("-seq")


def _moment(value: date | datetime, *, end_of_day: bool) -> datetime:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    day = value + timedelta(days=1) if end_of_day else value
    return timezone.make_aware(datetime.combine(day, time.min))


def csv_cell(value: Any) -> str:
    """A value as CSV text that a spreadsheet will show, never run, as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def csv_rows(events: QuerySet[AuditEvent]) -> Iterator[list[str]]:
    """The header, then one row per event (for ``csv.writer``), reading in bounded chunks."""
    yield list(CSV_COLUMNS)
    for event in events.iterator(chunk_size=2000):
        values: dict[str, Any] = {name: getattr(event, name) for name in CSV_COLUMNS}
        values["occurred_at"] = timestamp(event.occurred_at)
        values["details"] = json.dumps(event.details, sort_keys=True, ensure_ascii=False)
        yield [csv_cell(values[name]) for name in CSV_COLUMNS]


def list_checkpoints() -> QuerySet[AuditCheckpoint]:
    """Signed checkpoints, newest first."""
    return AuditCheckpoint.objects.order_by("-seq", "-signed_at")


def latest_checkpoint() -> AuditCheckpoint | None:
    return list_checkpoints().first()
