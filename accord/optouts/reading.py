"""Reading an uploaded opt-out list (CSV, XLSX or ODS) into normalised, unique NHS numbers.

The file is read with the platform's own reader (``submissions.reading.open_table``: the same
defences and plain-English refusals as any upload), in batches, and checked with vectorised
expressions: spaces and dashes removed, ten digits, the modulus 11 check digit
(``linkage.normalise.normalise_nhs_number``). A list with any row that is not an NHS number is
refused as a whole, with each bad row named: dropping a row would silently fail to honour
somebody's objection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from accord.linkage.normalise import normalise_nhs_number
from accord.submissions.engine import header_key
from accord.submissions.exceptions import UnusableFile
from accord.submissions.reading import ROW, open_table

# Headings the NHS number column may have ("NHS number", "NHS No.", "nhs_number", ...).
HEADINGS = frozenset({"nhsnumber", "nhsno", "nhs", "nhsnum"})
# The most problems listed one by one; the rest are counted.
MAX_LISTED = 50
BATCH_ROWS = 250_000


@dataclass
class ReadList:
    numbers: pl.Series  # unique, normalised (10 digits), sorted
    rows: int  # rows read (blank rows aside)
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)  # the first MAX_LISTED, in row order
    problem_count: int = 0


class UnreadableList(ValueError):
    """The file cannot be used as an opt-out list: ``message`` says why and how to fix it;
    ``problems`` lists bad rows (row number and what is wrong)."""

    def __init__(self, message: str, problems: list[str] | None = None, count: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.count = count


def _score(cells: list[str]) -> int:
    return sum(1 for cell in cells if header_key(cell) in HEADINGS)


def _reason(raw: pl.Expr) -> pl.Expr:
    digits = raw.str.replace_all(r"[\s\-]", "")
    return (
        pl.when(raw.str.contains(r"(?i)e\+"))
        .then(
            pl.lit(
                "looks like a number the spreadsheet has shortened (E+): format the column as "
                "text and export the file again"
            )
        )
        .when(~digits.str.contains(r"^[0-9]{10}$"))
        .then(pl.lit("is not an NHS number: an NHS number has 10 digits"))
        .otherwise(
            pl.lit(
                "fails the NHS number check (its last digit is wrong): check it was copied right"
            )
        )
    )


def read_list(
    path: str | Path, *, on_progress: Callable[[int, int | None], None] | None = None
) -> ReadList:
    """The NHS numbers in the file at ``path``. Raises ``UnreadableList`` for a file that
    cannot be read, has no NHS number column, is empty, or has rows that are not NHS numbers."""
    try:
        table = open_table(path, header_score=_score)
    except UnusableFile as exc:
        raise UnreadableList(exc.message) from None
    with table:
        keys = [header_key(h) for h in table.headers]
        if not keys:
            raise UnreadableList("The file has no columns. Put the NHS numbers in one column.")
        column = next((i for i, key in enumerate(keys) if key in HEADINGS), None)
        if column is None and len(keys) == 1:
            first = pl.Series([table.headers[0]]).to_frame("v")
            if first.select(normalise_nhs_number(pl.col("v"))).item() is not None:
                raise UnreadableList(
                    "The first row is an NHS number, not a heading. Add a first row with the "
                    "heading “NHS number” and upload the file again."
                )
            column = 0
        if column is None:
            raise UnreadableList(
                "No column is headed “NHS number”. Head the column of NHS numbers “NHS number” "
                "and upload the file again."
            )
        name = table.columns[column]
        parts: list[pl.Series] = []
        problems: list[str] = []
        problem_count = 0
        rows = 0
        try:
            for batch in table.batches(BATCH_ROWS):
                checked = batch.select(
                    pl.col(ROW),
                    pl.col(name).alias("raw"),
                    normalise_nhs_number(pl.col(name)).alias("nhs_number"),
                ).filter(pl.col("raw").str.strip_chars() != "")
                rows += checked.height
                bad = checked.filter(pl.col("nhs_number").is_null())
                problem_count += bad.height
                if bad.height and len(problems) < MAX_LISTED:
                    listed = bad.head(MAX_LISTED - len(problems)).with_columns(
                        _reason(pl.col("raw")).alias("why")
                    )
                    problems += [
                        f"Row {row}: “{raw.strip()}” {why}."
                        for row, raw, why in listed.select(ROW, "raw", "why").iter_rows()
                    ]
                parts.append(checked.get_column("nhs_number").drop_nulls())
                if on_progress is not None:
                    on_progress(rows, table.estimated_rows)
        except UnusableFile as exc:
            raise UnreadableList(exc.message) from None
    if problem_count:
        more = problem_count - len(problems)
        raise UnreadableList(
            f"{problem_count:,} row(s) are not valid NHS numbers, so the list was not changed. "
            "Correct or remove them and upload the file again."
            + (
                f" The first {len(problems)} are listed; {more:,} more are like them."
                if more
                else ""
            ),
            problems,
            problem_count,
        )
    if rows == 0:
        raise UnreadableList(
            "The file has no NHS numbers under its heading. Add them and try again."
        )
    everything = (
        pl.concat(parts) if parts else pl.Series("nhs_number", [], dtype=pl.String)
    ).alias("nhs_number")
    unique = everything.unique().sort()
    return ReadList(numbers=unique, rows=rows, duplicates=everything.len() - unique.len())
