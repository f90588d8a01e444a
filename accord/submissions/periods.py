"""Reporting periods and deadlines for a collection's schedule.

A period is named by its first day: a day (daily), the Monday of an ISO week (weekly), the first
of a month (monthly) or 1 April of a financial year (annual, as councils report). Its deadline
is a number of days after the period ends, at a time of day, in the platform's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Literal

from django.utils import timezone

Schedule = Literal["daily", "weekly", "monthly", "annual"]
SCHEDULES: dict[str, str] = {
    "daily": "Daily",
    "weekly": "Weekly",
    "monthly": "Monthly",
    "annual": "Annual (financial year)",
}
FINANCIAL_YEAR_START_MONTH = 4


def start_of(schedule: Schedule, day: dt.date) -> dt.date:
    """The first day of the period ``day`` falls in."""
    if schedule == "daily":
        return day
    if schedule == "weekly":
        return day - dt.timedelta(days=day.weekday())
    if schedule == "monthly":
        return day.replace(day=1)
    year = day.year if day.month >= FINANCIAL_YEAR_START_MONTH else day.year - 1
    return dt.date(year, FINANCIAL_YEAR_START_MONTH, 1)


def following(schedule: Schedule, start: dt.date) -> dt.date:
    """The first day of the period after the one starting ``start``."""
    if schedule == "daily":
        return start + dt.timedelta(days=1)
    if schedule == "weekly":
        return start + dt.timedelta(days=7)
    if schedule == "monthly":
        return dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return dt.date(start.year + 1, start.month, 1)


def end_of(schedule: Schedule, start: dt.date) -> dt.date:
    """The last day of the period starting ``start``."""
    return following(schedule, start) - dt.timedelta(days=1)


def is_start(schedule: Schedule, day: dt.date) -> bool:
    return start_of(schedule, day) == day


def label(schedule: Schedule, start: dt.date) -> str:
    """How people name the period: 2 March 2026, week of 2 March 2026, March 2026, 2025-26."""
    if schedule == "daily":
        return f"{start.day} {start:%B %Y}"
    if schedule == "weekly":
        return f"week of {start.day} {start:%B %Y}"
    if schedule == "monthly":
        return f"{start:%B %Y}"
    return f"{start.year}-{str(start.year + 1)[-2:]}"


def deadline(schedule: Schedule, start: dt.date, *, days_after: int, at: dt.time) -> dt.datetime:
    """When a period's return is due: ``days_after`` days after it ends, at ``at`` local time."""
    day = end_of(schedule, start) + dt.timedelta(days=days_after)
    return timezone.make_aware(dt.datetime.combine(day, at))


def between(schedule: Schedule, first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """Every period start from the period holding ``first`` to the one holding ``last``."""
    current = start_of(schedule, first)
    while current <= last:
        yield current
        current = following(schedule, current)


def parse(schedule: Schedule, text: str) -> dt.date:
    """A period typed by a person or a program: an ISO date in it (2026-03-02), a month
    (2026-03), or a financial year (2025-26). Raises ValueError saying what to write."""
    text = text.strip()
    try:
        if schedule == "monthly" and len(text) == 7:
            return dt.date.fromisoformat(f"{text}-01")
        if schedule == "annual" and len(text) == 7 and text[4] == "-":
            return dt.date(int(text[:4]), FINANCIAL_YEAR_START_MONTH, 1)
        return start_of(schedule, dt.date.fromisoformat(text))
    except ValueError:
        examples = {
            "daily": "2026-03-02",
            "weekly": "2026-03-02 (any day of the week)",
            "monthly": "2026-03",
            "annual": "2025-26",
        }
        raise ValueError(
            f"'{text}' is not a reporting period. Write it like {examples[schedule]}."
        ) from None
