"""Benchmark: finding one person across a large vault's worth of objects (issue 10).

    .venv/bin/python bench/subject_access.py [--objects 500] [--rows 10000000] [--workdir DIR]

Subject access reads every record-level object an organisation holds, decrypted to a private
workspace as Parquet files, and looks for one person. This measures that search step, by
calling ``accord.rights.search.search_files`` as ``scan`` does (``person_mask`` for the
standard's fields, normalised as linkage normalises them; files of one schema scanned as one
lazy query with the file each row came from), against two ways it could have been written:

- a loop over objects: read each file and filter it (Python per object, Polars per file);
- a loop over rows: read each file and compare each record in Python (per-row Python).

Decryption is not timed here: it is the vault's, measured by ``vault_parquet.py``. The person
is put in three of the objects, once by NHS number with different spacing; each way must find
the same rows. Prints each way's time, rows per second and its ratio to Accord's scan (its
time divided by Accord's).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.config.settings")

STANDARD = "adult-social-care-services"
PERSON = "9434765919"  # a valid NHS number (check digit 9), not one of the generated ones


def _objects(folder: Path, objects: int, rows: int) -> list[Path]:
    """``objects`` Parquet files of the adult social care standard's shape, ``rows`` in all;
    the person in three of them (one written with spaces, as some systems do)."""
    per = max(rows // objects, 1)
    paths = []
    for index in range(objects):
        n = pl.col("n")
        frame = pl.DataFrame(
            {"n": pl.int_range(index * per, (index + 1) * per, eager=True)}
        ).select(
            person_id=pl.lit("ASC-") + n.cast(pl.String),
            # The 999 test range, ten digits; most fail the check digit, and the search
            # normalises every one of them, as it must.
            nhs_number=pl.lit("999") + n.cast(pl.String).str.zfill(7),
            date_of_birth=pl.date(1930, 1, 1) + pl.duration(days=n % 25_000),
            uprn=pl.lit("99") + n.cast(pl.String).str.zfill(10),
            postcode=pl.lit("ME14 1AA"),
            ltla_cd=pl.lit("E07000110"),
            service_ref=pl.lit("SVC-") + n.cast(pl.String),
            service_type=pl.lit("residential"),
            service_status=pl.lit("open"),
        )
        if index in (3, objects // 2, objects - 1):
            written = "943 476 5919" if index == 3 else PERSON
            frame = frame.with_columns(
                pl.when(pl.int_range(pl.len()) == 7)
                .then(pl.lit(written))
                .otherwise(pl.col("nhs_number"))
                .alias("nhs_number")
            )
        path = folder / f"object-{index:05d}.parquet"
        frame.write_parquet(path)
        paths.append(path)
    return paths


def _accord(paths: list[Path], wanted: dict) -> dict[str, int]:
    from accord.rights.search import search_files

    found = search_files(STANDARD, [str(p) for p in paths], wanted)
    return {Path(file).name: rows.height for file, rows in found.items()}


def _per_object(paths: list[Path], wanted: dict) -> dict[str, int]:
    from accord.rights.search import person_mask

    found: dict[str, int] = {}
    for path in paths:
        frame = pl.read_parquet(path)
        mask = person_mask(STANDARD, frame.columns, wanted)
        assert mask is not None
        rows = frame.filter(mask)
        if rows.height:
            found[path.name] = rows.height
    return found


def _per_row(paths: list[Path], wanted: dict) -> dict[str, int]:
    found: dict[str, int] = {}
    for path in paths:
        for (number,) in pl.read_parquet(path, columns=["nhs_number"]).iter_rows():
            digits = "".join(ch for ch in str(number or "") if ch.isdigit())
            if digits == wanted["nhs_number"]:
                found[path.name] = found.get(path.name, 0) + 1
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    import django

    django.setup()
    from accord.rights.search import PersonQuery

    wanted = PersonQuery(nhs_number=PERSON).normalised()
    folder = Path(tempfile.mkdtemp(prefix="accord-sar-", dir=args.workdir))
    try:
        started = time.perf_counter()
        paths = _objects(folder, args.objects, args.rows)
        size = sum(p.stat().st_size for p in paths)
        print(
            f"{args.objects:,} objects, {args.rows:,} rows, {size / 1e6:,.0f} MB of Parquet "
            f"(made in {time.perf_counter() - started:.1f} s); Polars {pl.__version__}, "
            f"{os.cpu_count()} cores"
        )
        results = {}
        for name, way in (
            ("Accord: one lazy scan per schema", _accord),
            ("Loop over objects", _per_object),
            ("Loop over rows (Python)", _per_row),
        ):
            started = time.perf_counter()
            found = way(paths, wanted)
            seconds = time.perf_counter() - started
            results[name] = (seconds, found)
        expected = results["Accord: one lazy scan per schema"][1]
        assert len(expected) == 3, expected
        assert sum(expected.values()) == 3, expected
        base = results["Accord: one lazy scan per schema"][0]
        print(f"{'way':<36} {'seconds':>8} {'rows/s':>14} {'ratio':>9}  found")
        for name, (seconds, found) in results.items():
            assert found == expected, (name, found)
            print(
                f"{name:<36} {seconds:>8.2f} {args.rows / seconds:>14,.0f} "
                f"{seconds / base:>9.1f}  {sum(found.values())} rows in {len(found)} objects"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
