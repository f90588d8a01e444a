"""Benchmark: disclosure control of a 100,000-cell table through each profile (issue 8).

    .venv/bin/python bench/disclosure.py                  # 100,000 cells, 5 repeats
    .venv/bin/python bench/disclosure.py --cells 1000000 --repeats 3

A synthetic count table is made once (not timed), vectorised by Polars from a seeded
generator: local authority x day x age band, counts drawn so about a quarter are small
(0-9), with margins (``add_margins``) for the two-way profile. Each profile is timed by its
median over ``--repeats``:

* standard: ``protect(table, STANDARD)`` on the 100,000 cells;
* strict: ``protect(add_margins(...), STRICT, rows=..., columns=..., layers=...)`` on the
  two-way tables (one per age band) with their margins, secondary suppression included
  (the margins are added before timing, so the table is 100,000 cells plus margins);
* strict includes the interval audit (witness on every sub-table; LP up to
  ``audit_max_cells`` entries, else the documented margin fallback);
* magnitude: ``protect_magnitude`` on record-level contributions (1-12 homes per cell);
* cell key: ``cell_keys`` from record-level data (one record per person counted, about 15M,
  with record keys hashed from the record number; not timed, printed for reference) then
  ``protect(cells, CELL_KEY)``: the p-table lookup, timed. Empty cells have no records, so
  this table has fewer cells (about 97,500).

Everything runs on ONE thread (POLARS_MAX_THREADS=1, set before Polars is imported).
Goal (issue 8): disclosure control of a 100,000-cell table in <= 1 s.
"""

from __future__ import annotations

import os

os.environ["POLARS_MAX_THREADS"] = "1"
os.environ["RAYON_NUM_THREADS"] = "1"

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # accord

from accord.outputs.disclosure import (
    CELL_KEY,
    STANDARD,
    STRICT,
    add_margins,
    cell_keys,
    protect,
    protect_magnitude,
)

GOAL_SECONDS = 1.0


def _uniform(index: pl.Expr, seed: int, salt: int) -> pl.Expr:
    """A reproducible pseudo-random value in [0, 1) per row, from a hash of its number."""
    return (index.hash(seed=seed + salt) % 1_000_003).cast(pl.Float64) / 1_000_003


def make_table(cells: int, seed: int) -> pl.DataFrame:
    """local authority x day x age band with ``cells`` cells, about a quarter of them 0-9."""
    bands, days = 10, 100
    las = max(1, cells // (bands * days))
    i = pl.int_range(las * days * bands, dtype=pl.Int64)
    small = _uniform(i, seed, 1) < 0.25
    count = (
        pl.when(small)
        .then((_uniform(i, seed, 2) * 10).floor())
        .otherwise(10 + (_uniform(i, seed, 3) * 390).floor())
    )
    return pl.select(
        pl.format("{}", i % bands).alias("band"),
        pl.format("E{}", i // bands % las).alias("la"),
        pl.format("d{}", i // (bands * las)).alias("day"),
        count.cast(pl.Int64).alias("count"),
    )


def make_records(table: pl.DataFrame, seed: int) -> pl.DataFrame:
    repeated = table.select(pl.all().repeat_by("count").explode()).drop("count").drop_nulls()
    i = pl.int_range(pl.len(), dtype=pl.Int64)
    return repeated.with_columns((i.hash(seed=seed + 4) % 4096).cast(pl.Int64).alias("record_key"))


def median_time(step: Callable[[], Any], repeats: int) -> tuple[float, float, float, Any]:
    times = []
    result = None
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), max(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()

    table = make_table(args.cells, args.seed)
    with_margins = add_margins(table, rows="la", columns="day", layers=("band",))
    records = make_records(table, args.seed)
    keyed = cell_keys(records, ["band", "la", "day"])
    # magnitude: 100,000 cells with 1-12 contributing homes each (~650,000 contributions)
    n = pl.int_range(pl.len(), dtype=pl.Int64)
    contributions = (
        table.with_columns((1 + (n.hash(seed=args.seed + 5) % 12)).alias("_k"), n.alias("_cell"))
        .select(pl.all().repeat_by("_k").explode())
        .with_columns(
            pl.format("h{}", pl.int_range(pl.len()).over("_cell")).alias("home"),
            (pl.int_range(pl.len(), dtype=pl.Int64).hash(seed=args.seed + 6) % 50).alias("beds"),
        )
    )
    print(
        f"table: {table.height:,} cells ({with_margins.height:,} with margins), "
        f"{int(table['count'].sum()):,} records for the cell key run; Polars "
        f"{pl.__version__}, one thread, median of {args.repeats}"
    )
    runs: list[tuple[str, int, Callable[[], pl.DataFrame]]] = [
        ("standard", table.height, lambda: protect(table, STANDARD)),
        (
            "strict (two-way, margins, secondary)",
            with_margins.height,
            lambda: protect(with_margins, STRICT, rows="la", columns="day", layers=("band",)),
        ),
        ("cell key (p-table lookup)", keyed.height, lambda: protect(keyed, CELL_KEY)),
        (
            "magnitude (p%, (n,k), contributors)",
            contributions["_cell"].n_unique(),
            lambda: protect_magnitude(contributions, ["band", "la", "day"], "beds", "home"),
        ),
    ]
    print(f"{'profile':<38} {'cells':>9} {'median s':>9} {'min-max s':>12} {'/ 1 s':>7}  statuses")
    for name, cells, step in runs:
        median, low, high, out = median_time(step, args.repeats)
        statuses = dict(out.group_by("status").len().sort("status").iter_rows())
        verdict = "met" if median <= GOAL_SECONDS else "NOT met"
        print(
            f"{name:<38} {cells:>9,} {median:>9.3f} {f'{low:.3f}-{high:.3f}':>12} "
            f"{median / GOAL_SECONDS:>7.2f}  {statuses} ({verdict})"
        )
    started = time.perf_counter()
    cell_keys(records, ["band", "la", "day"])
    print(
        f"(cell_keys from {records.height:,} records, for reference: "
        f"{time.perf_counter() - started:.3f} s)"
    )


if __name__ == "__main__":
    main()
