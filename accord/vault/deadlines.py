"""Retention deadlines: from an ISO 8601 duration (``P1Y``, ``P6M``, ``P2W``, ``P30D``, or a
combination such as ``P1Y6M``) counted from when the object was stored, or from an end date.

Durations are calendar durations (``P1M`` from 31 January is the last day of February), added
with ``dateutil.relativedelta``. Times of day (``PT12H``) are refused: retention is counted in
days or more. An end date means the object may be deleted from the start of that day, in
Accord's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import timezone

_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?")
_MAX_YEARS = 200  # keeps arithmetic far from datetime's limits; no retention runs this long

Retention = str | date


@dataclass(frozen=True)
class Deadline:
    at: datetime
    rule: str


def parse_duration(text: str) -> relativedelta:
    """A strict ISO 8601 duration of years, months, weeks and days (``P1Y``, ``P6M``, ``P30D``).

    Raises ``ValidationError`` naming what is wrong."""
    value = str(text).strip()
    match = _DURATION.fullmatch(value)
    if "T" in value.upper():
        raise ValidationError(
            f"The retention period “{value}” has a time part: give whole days or more, such "
            "as P30D, P6M or P1Y."
        )
    if not match or not any(match.groups()):
        raise ValidationError(
            f"“{value}” is not a retention period Accord understands. Give an ISO 8601 "
            "duration of years, months, weeks or days, such as P1Y, P6M, P2W, P30D or P1Y6M."
        )
    years, months, weeks, days = (int(group or 0) for group in match.groups())
    if years + months // 12 + weeks // 52 + days // 365 > _MAX_YEARS:
        raise ValidationError(
            f"The retention period “{value}” is over {_MAX_YEARS} years: check the figure."
        )
    if not (years or months or weeks or days):
        raise ValidationError(f"The retention period “{value}” is zero: give a period to keep.")
    return relativedelta(years=years, months=months, weeks=weeks, days=days)


def deadline_for(retention: Retention, *, basis: str, start: datetime) -> Deadline:
    """The deadline ``retention`` sets for an object stored at ``start``, and the rule's text
    (``"P1Y: standard default"``, ``"until 2027-03-31: agreement 12, clause 7"``)."""
    basis = " ".join(str(basis).split())
    if isinstance(retention, datetime):
        raise ValidationError(
            "Give the retention end as a date (a datetime.date), not a date and time."
        )
    if isinstance(retention, date):
        end = retention
        at = timezone.make_aware(datetime.combine(end, time.min))
        if end <= timezone.localdate(start):
            raise ValidationError(
                f"The retention end date {end.isoformat()} is not after the day the object is "
                "stored: give a later date."
            )
        rule = f"until {end.isoformat()}"
    elif isinstance(retention, str):
        value = retention.strip()
        if value[:1].upper() == "P":
            at = start + parse_duration(value)
            rule = value
        else:
            try:
                end = date.fromisoformat(value)
            except ValueError:
                raise ValidationError(
                    f"“{value}” is neither a retention period (such as P1Y, P6M or P30D) nor "
                    "an end date (such as 2027-03-31)."
                ) from None
            return deadline_for(end, basis=basis, start=start)
    else:
        raise ValidationError(
            "Give the retention as an ISO 8601 duration (such as P1Y) or a date, not "
            f"{type(retention).__name__}."
        )
    return Deadline(at=at, rule=f"{rule}: {basis}" if basis else rule)


def describe(at: datetime) -> str:
    """A deadline as people read it: the date, plus the time when it is not midnight."""
    local = timezone.localtime(at)
    if local.time() == time.min:
        return local.date().isoformat()
    return local.strftime("%Y-%m-%d %H:%M %Z")
