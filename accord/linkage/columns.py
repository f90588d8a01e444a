"""Each dataset's columns in the linkage engine's terms.

The engine compares standard columns (``engine.PERSON_COLUMNS``): NHS number, UPRN, names,
date of birth, sex, one address line and postcode. A data standard names them its own way
(the shielded patient list's ``address_line_1`` to ``_4``, free school meals' ``parent_dob``),
so each bundled standard says which of its fields plays which part; a standard not listed here
is read by the parts' own names. Only columns the decision let through are used: a field the
agreement did not grant is simply not compared.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

# The parts a dataset's fields can play, in the engine's names and types.
PARTS: Mapping[str, pl.DataType] = {
    "nhs_number": pl.String(),
    "uprn": pl.String(),
    "given_name": pl.String(),
    "family_name": pl.String(),
    "date_of_birth": pl.Date(),
    "sex": pl.String(),
    "address": pl.String(),
    "postcode": pl.String(),
}

# standard slug -> part -> the standard's field(s) that play it (several are joined with ", ").
ROLES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "shielded-patient-list": {
        "address": ("address_line_1", "address_line_2", "address_line_3", "address_line_4"),
    },
    "fsm-eligibility": {
        "family_name": ("parent_family_name",),
        "date_of_birth": ("parent_dob",),
        "postcode": ("home_postcode",),
    },
    "care-home-daily-status": {
        "address": ("care_home_name",),
    },
}

# Where each record came from, as a compiled collection records it: never a record value.
PROVENANCE = ("submission", "source_row")
RECORD_ID = "record_id"


def record_ids(frame: pl.DataFrame) -> pl.Expr:
    """A stable name for each row: "<submission>:<row>" for a compiled collection (the same
    record keeps its name from run to run), else the row's position."""
    if all(column in frame.columns for column in PROVENANCE):
        return pl.concat_str(
            pl.col("submission").cast(pl.String),
            pl.col("source_row").cast(pl.String),
            separator=":",
        )
    return pl.int_range(1, pl.len() + 1).cast(pl.String)


def fields_for(standard: str, part: str) -> tuple[str, ...]:
    return tuple(ROLES.get(standard, {}).get(part, (part,)))


def standardise(frame: pl.DataFrame, standard: str) -> pl.DataFrame:
    """``frame`` as the engine reads it: ``record_id`` and each part the frame has."""
    columns: list[pl.Expr] = [record_ids(frame).alias(RECORD_ID)]
    for part, dtype in PARTS.items():
        present = [field for field in fields_for(standard, part) if field in frame.columns]
        if not present:
            continue
        if len(present) == 1:
            value = pl.col(present[0])
        else:
            value = pl.concat_str(
                [pl.col(field) for field in present], separator=", ", ignore_nulls=True
            )
        if dtype == pl.Date():
            value = value.cast(pl.Date, strict=False)
        else:
            value = value.cast(pl.String)
            value = pl.when(value.str.strip_chars() == "").then(None).otherwise(value)
        columns.append(value.alias(part))
    return frame.select(columns)


def parts_of(standard: str, fields: tuple[str, ...] | list[str]) -> list[str]:
    """The parts a dataset with these fields can play, for the job page."""
    return [part for part in PARTS if any(field in fields for field in fields_for(standard, part))]
