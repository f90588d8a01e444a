"""Flexible tables: counts of people in a record-level collection, broken down by one or two
classifications the reader chooses, protected by cell key perturbation.

The reference's profile for flexible queries (validation-and-disclosure-control.md, B.4):

* every person carries a **persistent secret record key** (0..4095): the HMAC-SHA256 of their
  identifier under a key that only Accord holds, one per collection (kept in the key store
  beside the agreements' pseudonymisation keys), so a person has the same record key in every
  return, compilation and period, and nobody can compute it;
* a cell's key is the sum of its people's record keys modulo 4096, and the noise comes from the
  perturbation table on (count, cell key): **the same question always gets the same answer**,
  and averaging repeated queries gains nothing;
* **fixed classifications** only (no free-text filters or user-drawn bands), at most two at a
  time (a dimension limit), people counted once per cell;
* every table is a decision (aggregate, for a purpose the agreement names, with its row filter
  and fields applied first) and a logged query, counted against the organisation's daily limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import polars as pl
from django.utils import timezone

from accord.access.enums import Action
from accord.access.extracts import as_permitted
from accord.access.transform import generalise, hmac_sha256_hex, pseudonymisation_key
from accord.audit.actor import Actor
from accord.audit.exceptions import Refused
from accord.submissions.models import Collection, CompiledDataset
from accord.vault.parquet import read_frame

from . import disclosure
from .actions import log_query
from .queries import decide_aggregate

MAX_DIMENSIONS = 2
RECORD_KEY = "_record_key"
COUNT = "people"
OWN_PURPOSE = "Analysis of our own collection"


@dataclass(frozen=True)
class Flexible:
    """What may be tabulated from records of one standard: the column identifying a person,
    and the classifications (column → label) a table may break down by."""

    person: str
    classifications: MappingProxyType[str, str]


FLEXIBLE = MappingProxyType(
    {
        "housing-benefit-claims": Flexible(
            person="person_id",
            classifications=MappingProxyType(
                {
                    "ltla_cd": "District",
                    "claim_status": "Claim status",
                    "tenure": "Tenure",
                    "hb_weekly_award_band": "Weekly award",
                    "date_of_birth": "Age band",
                }
            ),
        ),
    }
)


@dataclass(frozen=True)
class FlexibleTable:
    collection: Collection
    breakdowns: tuple[str, ...]
    labels: tuple[str, ...]
    table: pl.DataFrame  # breakdown columns, people (perturbed, or 0), status, explanation
    purpose: str
    rows: int  # people counted, before perturbation (not shown)


def flexible_for(collection: Collection) -> Flexible | None:
    return FLEXIBLE.get(collection.standard_slug)


def record_key_secret(collection: Collection) -> bytes:
    """The collection's secret for record keys: made on first use, kept for ever."""
    return pseudonymisation_key(f"record-keys:{collection.pk}")


def record_keys(people: pl.Series, secret: bytes) -> pl.Series:
    """Each person's record key, 0..4095: the first 12 bits of the HMAC-SHA256 of their
    identifier (trimmed, upper case) under ``secret``. Persistent: the same person always gets
    the same key; secret: without ``secret`` nobody can work it out."""
    normal = people.cast(pl.String).str.strip_chars().str.to_uppercase()
    hexes = hmac_sha256_hex(normal, secret)
    return (
        hexes.str.slice(0, 3).str.to_integer(base=16, strict=False).fill_null(0).cast(pl.Int64)
    ).alias(RECORD_KEY)


def _check(flexible: Flexible, breakdowns: tuple[str, ...], target: str) -> None:
    if not breakdowns:
        raise Refused("Choose at least one way to break the table down.", target=target)
    if len(breakdowns) > MAX_DIMENSIONS:
        raise Refused(
            f"Choose at most {MAX_DIMENSIONS} ways to break the table down: more would make "
            "cells so small that people could be picked out.",
            target=target,
        )
    unknown = [b for b in breakdowns if b not in flexible.classifications]
    if unknown:
        names = ", ".join(flexible.classifications.values())
        raise Refused(f"Break the table down only by: {names}.", target=target)


def flexible_table(
    *, by: Actor, collection: Collection, breakdowns: tuple[str, ...], purpose: str
) -> FlexibleTable:
    """Count the people in ``collection``'s latest compilation by ``breakdowns``, as the
    decision point lets ``by`` for ``purpose``, perturbed by cell key. Raises ``Refused`` for
    a question it cannot answer, ``AccessDenied`` (audited) when not permitted, and
    ``QueryLimitReached`` past the day's limit."""
    target = f"collection:{collection.pk}"
    flexible = flexible_for(collection)
    if flexible is None:
        raise Refused(f"{collection.name} has no records of people to tabulate.", target=target)
    breakdowns = tuple(dict.fromkeys(breakdowns))
    _check(flexible, breakdowns, target)
    compilation = (
        CompiledDataset.objects.filter(collection=collection)
        .select_related("data")
        .order_by("-number")
        .first()
    )
    if compilation is None or compilation.data.deleted_at is not None:
        raise Refused(f"{collection.name} has no compiled data yet.", target=target)
    decision = decide_aggregate(by=by, data=compilation.data, purpose=purpose)
    frame = read_frame(compilation.data.id, by=by, decision=decision, action=Action.AGGREGATE)
    if flexible.person not in frame.columns:
        raise Refused(f"{collection.name} has no {flexible.person} column.", target=target)
    keyed = frame.with_columns(record_keys(frame[flexible.person], record_key_secret(collection)))
    shaped = as_permitted(keyed, decision, keep_columns=(RECORD_KEY,))
    if "date_of_birth" in breakdowns and shaped.schema.get("date_of_birth") != pl.String:
        shaped = generalise(shaped, [("date_of_birth", "age_band")], today=timezone.localdate())
    missing = [b for b in breakdowns if b not in shaped.columns]
    if missing:
        labels = ", ".join(flexible.classifications[b] for b in missing)
        raise Refused(
            f"The agreement that shares this data does not give you: {labels}.", target=target
        )
    # Each person once per cell (by their identifier, pseudonymised or not; the record key
    # only where the agreement withholds it).
    who = [flexible.person] if flexible.person in shaped.columns else []
    people = shaped.select(*breakdowns, *who, RECORD_KEY).unique([*breakdowns, *who, RECORD_KEY])
    cells = disclosure.cell_keys(
        people.with_columns(pl.col(b).cast(pl.String).fill_null("Not known") for b in breakdowns),
        list(breakdowns),
        record_key=RECORD_KEY,
        count=COUNT,
    )
    protected = disclosure.protect(cells, disclosure.CELL_KEY, count=COUNT).sort(*breakdowns)
    log_query(by=by, collection=collection, kind="flexible", cells=protected.height,
              breakdowns=list(breakdowns))  # fmt: skip
    return FlexibleTable(
        collection=collection,
        breakdowns=breakdowns,
        labels=tuple(flexible.classifications[b] for b in breakdowns),
        table=protected.drop("cell_key"),
        purpose=purpose,
        rows=people.height,
    )


def as_grid(result: FlexibleTable) -> dict[str, Any]:
    """The table for a page: one breakdown as a list, two as rows by columns."""
    first = result.breakdowns[0]
    rows = result.table.get_column(first).unique().sort().to_list()
    if len(result.breakdowns) == 1:
        cells = {r[first]: r for r in result.table.iter_rows(named=True)}
        return {"rows": [(row, [cells[row]]) for row in rows], "columns": [result.labels[0]]}
    second = result.breakdowns[1]
    columns = result.table.get_column(second).unique().sort().to_list()
    cells = {(r[first], r[second]): r for r in result.table.iter_rows(named=True)}
    empty = {COUNT: 0, disclosure.STATUS: "published", disclosure.SYMBOL: ""}
    return {
        "rows": [(row, [cells.get((row, column), empty) for column in columns]) for row in rows],
        "columns": columns,
    }
