"""Benchmark: applying an access decision's obligations to 1M rows, and writing the extract.

    .venv/bin/python bench/extracts.py                    # 1M rows, 3 repeats, all cores
    .venv/bin/python bench/extracts.py --one-thread       # per-core figures
    .venv/bin/python bench/extracts.py --rows 200000 --repeats 1 --loop-sample 20000
    .venv/bin/python bench/extracts.py --people 0         # every identifier distinct

Phases, each timed on a frame already in memory (building it is not timed):

(p) pseudonymise the two identifier columns (NHS number, UPRN): normalise in Polars, HMAC by
    the polars-hash plugin's SHA-256 (``accord.access.transform.pseudonymise``);
(a) (p) plus generalising date of birth to an age band and postcode to its sector;
(b) (a) plus writing the result as a Parquet extract and as a CSV extract (ZIP with
    datapackage.json), both through ``write_extract``.

Baseline: a plain Python loop calling ``hmac.digest`` once per value on both identifier columns
of a sample (already normalised, which favours the loop), scaled to the full row count. The
goal is (a) at >= 500,000 rows/s. No assertions: this prints figures (bench/README.md).

The rows belong to 400,000 people (2.5 rows each on average) at 160,000 addresses (2.5 people
each, about the UK's average household), so identifiers repeat as in real extracts; ``--people``
and ``--households`` change that, and ``--people 0`` makes every identifier distinct.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

if "--one-thread" in sys.argv:  # before Polars is imported
    os.environ["POLARS_MAX_THREADS"] = "1"
    os.environ["RAYON_NUM_THREADS"] = "1"

import hmac
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date

import polars as pl
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # accord
from accord.access import transform

GOAL_ROWS_PER_S = 500_000
TODAY = date(2025, 3, 1)
IDENTIFIERS = {"nhs_number": "nhs_number", "uprn": "uprn"}
GENERALISE = [("date_of_birth", "age_band"), ("postcode", "postcode_sector")]
METADATA = {
    "extract_id": "bench-extract",
    "agreement": "Benchmark agreement",
    "purpose": "Measure the extract path",
}
AREAS = ["ME", "SW", "B", "M", "CR", "LS", "CF", "NE", "EH", "BT", "W", "TN"]


def build(rows: int, *, people: int = 0, households: int = 0, seed: int = 7) -> pl.DataFrame:
    """Synthetic records, made vectorised from hashes of the row number.

    Each row belongs to one of ``people`` people (drawn at random, so people have different
    numbers of rows), each living at one of ``households`` addresses: a person's rows share
    their NHS number, date of birth, UPRN and postcode, as in real extracts. ``people=0`` makes
    every row a different person at a different address (every identifier distinct: the worst
    case for anything that hashes each distinct value once). Per row, as different source
    systems write them: NHS numbers (a third with spaces), UPRNs (a quarter zero-padded to 12),
    postcodes (some lower case or unspaced); and a local authority code, an amount and a flag.
    """
    index = pl.int_range(0, rows, dtype=pl.UInt64, eager=True)
    if people:
        person = index.hash(seed) % people
        household = person.hash(seed + 1) % (households or people)
    else:
        person, household = index, index
    per_person = [person.hash(seed + 10 + i) for i in range(2)]
    per_household = [household.hash(seed + 20 + i) for i in range(4)]
    per_row = [index.hash(seed + 30 + i) for i in range(3)]
    nhs = (per_person[0] % 9_000_000_000 + 1_000_000_000).cast(pl.String)
    spaced = nhs.str.slice(0, 3) + " " + nhs.str.slice(3, 3) + " " + nhs.str.slice(6, 4)
    uprn = (per_household[0] % 100_000_000_000 + 1).cast(pl.String)
    area = pl.Series(AREAS).gather((per_household[1] % len(AREAS)).cast(pl.Int64))
    digits = (per_household[2] % 20 + 1).cast(pl.String)
    sector = (per_household[2] // 20 % 10).cast(pl.String)
    letters = pl.Series(list("ABDEFGHJLNPQRSTUWXYZ"))
    unit = letters.gather((per_household[3] % 20).cast(pl.Int64))
    unit2 = letters.gather((per_household[3] // 20 % 20).cast(pl.Int64))
    postcode = area + digits + " " + sector + unit + unit2
    frame = pl.DataFrame(
        {
            "row": index,
            "nhs_number": pl.select(
                pl.when(per_row[0] % 3 == 0).then(spaced).otherwise(nhs)
            ).to_series(),
            "uprn": pl.select(
                pl.when(per_row[0] % 4 == 1).then(uprn.str.zfill(12)).otherwise(uprn)
            ).to_series(),
            "date_of_birth": pl.select(
                pl.lit(date(1920, 1, 1)) + pl.duration(days=(per_person[1] % 36_500))
            ).to_series(),
            "postcode": pl.select(
                pl.when(per_row[1] % 5 == 2)
                .then(postcode.str.to_lowercase())
                .when(per_row[1] % 5 == 3)
                .then(postcode.str.replace(" ", "", literal=True))
                .otherwise(postcode)
            ).to_series(),
            "la_code": "E0600000" + (per_household[1] % 9 + 1).cast(pl.String),
            "amount": (per_row[2] % 100_000).cast(pl.Float64) / 100,
            "eligible": per_row[2] % 2 == 0,
        }
    )
    return frame.rechunk()


def timed(step: Callable[[], object], repeats: int, label: str) -> float:
    """The median wall time of ``repeats`` runs of ``step``."""
    times = []
    for _ in tqdm(range(repeats), desc=label, unit="run", leave=False):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def loop_baseline(frame: pl.DataFrame, key: bytes, sample: int) -> float:
    """Seconds for a plain Python loop of ``hmac.digest`` over both identifier columns of the
    first ``sample`` rows, already normalised (no progress bar: it would slow the loop)."""
    normal = frame.head(sample).select(
        transform.normalise_expr(name, kind) for name, kind in IDENTIFIERS.items()
    )
    columns = [normal.get_column(name).to_list() for name in IDENTIFIERS]
    started = time.perf_counter()
    for values in columns:
        _ = [
            None if value is None else hmac.digest(key, value.encode(), "sha256").hex()
            for value in values
        ]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loop-sample", type=int, default=100_000)
    parser.add_argument(
        "--people", type=int, default=400_000, help="people the rows belong to (0: one a row)"
    )
    parser.add_argument("--households", type=int, default=160_000, help="addresses they live at")
    parser.add_argument("--one-thread", action="store_true", help="one Polars thread")
    args = parser.parse_args()

    print(f"Building {args.rows:,} rows...", flush=True)
    frame = build(args.rows, people=args.people, households=args.households)
    distinct = frame.select(
        transform.normalise_expr(name, kind).n_unique() for name, kind in IDENTIFIERS.items()
    ).row(0)
    key = secrets.token_bytes(32)
    threads = "1 thread" if args.one_thread else f"{pl.thread_pool_size()} Polars threads"
    size = frame.estimated_size() / 1e6
    print(f"{frame.height:,} rows x {frame.width} columns, {size:.0f} MB in memory; {threads}")
    print(
        "distinct normalised values: "
        + ", ".join(f"{name} {count:,}" for name, count in zip(IDENTIFIERS, distinct, strict=True))
    )

    def pseudonymised() -> pl.DataFrame:
        return transform.pseudonymise(frame, IDENTIFIERS, key)

    def obliged() -> pl.DataFrame:
        return transform.generalise(pseudonymised(), GENERALISE, today=TODAY)

    with tempfile.TemporaryDirectory(prefix="accord-bench-extracts-") as folder:
        out = Path(folder)

        def written() -> None:
            result = obliged()
            transform.write_extract(result, out / "e.parquet", fmt="parquet", metadata=METADATA)
            transform.write_extract(result, out / "e.csv", fmt="csv", metadata=METADATA)

        p = timed(pseudonymised, args.repeats, "(p) pseudonymise")
        a = timed(obliged, args.repeats, "(a) obligations")
        b = timed(written, args.repeats, "(b) + write")
        sizes = {name: (out / name).stat().st_size for name in ("e.parquet", "e.zip")}

        # Separately, so the split of (b) can be read off.
        result = obliged()
        parquet = timed(
            lambda: transform.write_extract(
                result, out / "p.parquet", fmt="parquet", metadata=METADATA
            ),
            args.repeats,
            "parquet only",
        )
        csv_zip = timed(
            lambda: transform.write_extract(result, out / "c.csv", fmt="csv", metadata=METADATA),
            args.repeats,
            "csv zip only",
        )

    sample = min(args.loop_sample, frame.height)
    loop = loop_baseline(frame, key, sample)
    loop_scaled = loop * frame.height / sample

    rows = frame.height
    print()
    print(f"{'phase':<52} {'median':>9} {'rows/s':>12}")
    for label, seconds in [
        ("(p) pseudonymise NHS number + UPRN", p),
        ("(a) (p) + age band + postcode sector", a),
        ("(b) (a) + Parquet extract + CSV extract (zip)", b),
        ("    of which: Parquet extract alone", parquet),
        ("    of which: CSV extract (zip, deflate) alone", csv_zip),
        (f"loop: hmac.digest per value, {sample:,} rows, scaled", loop_scaled),
    ]:
        print(f"{label:<52} {seconds:>8.2f}s {rows / seconds:>12,.0f}")
    print()
    print(f"Parquet {sizes['e.parquet'] / 1e6:.1f} MB, CSV zip {sizes['e.zip'] / 1e6:.1f} MB")
    for label, seconds in [("(a)", a), ("(b)", b)]:
        rate = rows / seconds
        verdict = "met" if rate >= GOAL_ROWS_PER_S else "not met"
        print(
            f"{label}: {rate:,.0f} rows/s against the goal of {GOAL_ROWS_PER_S:,}: "
            f"{rate / GOAL_ROWS_PER_S:.2f}x the goal, {verdict}."
        )
    print(
        f"Loop ÷ vectorised, pseudonymising alone: {loop_scaled / p:.1f}x "
        f"(the loop hashes values already normalised; the vectorised path also normalises)."
    )


if __name__ == "__main__":
    main()
