"""When report-backs fall due: durations counted from the term's start, repeating; a date once."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from accord.agreements.document import ReportBack
from accord.outcomes.queries import Period, due_dates

D = dt.date


def _first(due: str, start: dt.date, n: int = 4, end: dt.date | None = None) -> list[dt.date]:
    report = ReportBack(what="Outcomes", due=due)
    return [d.due_on for d in itertools.islice(due_dates(report, start, end=end), n)]


@pytest.mark.parametrize(
    ("text", "months", "days"),
    [
        ("P3M", 3, 0),
        ("P1Y", 12, 0),
        ("P1Y6M", 18, 0),
        ("P2W", 0, 14),
        ("P30D", 0, 30),
        ("P1M15D", 1, 15),
        ("PT12H", 0, 1),  # the time part is ignored: at least a day
    ],
)
def test_durations_are_read_as_months_and_days(text: str, months: int, days: int) -> None:
    assert Period.parse(text) == Period(months=months, days=days)


def test_a_date_is_not_a_duration() -> None:
    assert Period.parse("2026-03-31") is None


def test_a_duration_repeats_every_period_from_the_start() -> None:
    assert _first("P3M", D(2026, 1, 15)) == [
        D(2026, 4, 15),
        D(2026, 7, 15),
        D(2026, 10, 15),
        D(2027, 1, 15),
    ]


def test_months_are_counted_from_the_start_each_time_so_short_months_do_not_drift() -> None:
    assert _first("P1M", D(2026, 1, 31)) == [
        D(2026, 2, 28),
        D(2026, 3, 31),
        D(2026, 4, 30),
        D(2026, 5, 31),
    ]


def test_a_leap_day_start_falls_back_to_the_end_of_february() -> None:
    assert _first("P1Y", D(2024, 2, 29), n=2) == [D(2025, 2, 28), D(2026, 2, 28)]


def test_weeks_and_days() -> None:
    assert _first("P2W", D(2026, 3, 2), n=2) == [D(2026, 3, 16), D(2026, 3, 30)]


def test_each_due_date_covers_the_period_since_the_last() -> None:
    report = ReportBack(what="Outcomes", due="P1M")
    first, second = itertools.islice(due_dates(report, D(2026, 1, 1)), 2)
    assert (first.period_start, first.period_end) == (D(2026, 1, 1), D(2026, 1, 31))
    assert (second.period_start, second.period_end) == (D(2026, 2, 1), D(2026, 2, 28))


def test_no_due_date_after_the_term_ends() -> None:
    assert _first("P3M", D(2026, 1, 1), n=10, end=D(2026, 12, 31)) == [
        D(2026, 4, 1),
        D(2026, 7, 1),
        D(2026, 10, 1),
    ]


def test_a_date_is_due_once() -> None:
    assert _first("2026-03-31", D(2026, 1, 1)) == [D(2026, 3, 31)]
