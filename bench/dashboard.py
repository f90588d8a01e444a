"""Benchmark: the care home dashboard over a year of daily returns from 10,000 homes (issue 8).

    .venv/bin/python bench/dashboard.py                   # 10,000 homes x 365 days, 5 repeats
    .venv/bin/python bench/dashboard.py --one-thread      # per-core figures
    .venv/bin/python bench/dashboard.py --homes 2000 --repeats 3
    .venv/bin/python bench/dashboard.py --bundled-areas   # only the 6 bundled LADs

The records are made once (not timed) by ``accord.demo.care_home_returns.many_care_homes``:
10,000 homes x 365 days = 3.65M rows of the care home daily status standard, typed as the
validated returns are stored. The bundled geography has only six local authority districts
(in three regions), so by default the homes are spread over 300 areas: the six real ones and
294 synthetic codes (``E069xxxxx``), spread over the three real regions and six synthetic ones
(nine, as England has). The bench puts them in the recipe's area lookup (``recipes._area_lookup``
and ``recipes.area_names``, replaced in this process only) so they are named and roll up to a
region as real ones do; ``--bundled-areas`` keeps the six real areas and the lookup untouched.

Each phase is timed by its median of ``--repeats`` runs after one warm-up run:

(a) ``recipes.compute(CARE_HOME_STATUS, frame)``: the exact long table (period x area level x
    area x measure), from the frame in memory;
(b) ``recipes.make_output(CARE_HOME_STATUS, frame, STANDARD)``: (a) plus disclosure control;
(c) (b) from Parquet: ``pl.read_parquet`` of the frame written (zstd, not timed) to a temp
    folder, then compute and protect, as the output task reads the compiled collection from
    the vault (without the vault's decryption: bench/vault_parquet.py measures that).

Baseline: the same aggregation per row in plain Python (dict accumulation over ``iter_rows``,
all three levels and eight measures, rates from the sums) on a 1/``--sample`` sample of the
homes, scaled up to every row. Goal (issue 8): the dashboard computed in <= 0.5 s.
No assertions: this prints figures (bench/README.md).
"""

from __future__ import annotations

import os
import sys

if "--one-thread" in sys.argv:  # before Polars is imported
    os.environ["POLARS_MAX_THREADS"] = "1"
    os.environ["RAYON_NUM_THREADS"] = "1"

import argparse
import functools
import gc
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import django
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # accord
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.config.settings")
# The demo data module imports Django models; keep anything settings make out of var/.
os.environ.setdefault("ACCORD_DATA_DIR", tempfile.mkdtemp(prefix="accord-bench-dashboard-"))
django.setup()

from accord.demo.care_home_returns import many_care_homes  # noqa: E402
from accord.outputs import recipes  # noqa: E402
from accord.outputs.disclosure import STANDARD  # noqa: E402
from accord.outputs.recipes import CARE_HOME_STATUS  # noqa: E402

GOAL_SECONDS = 0.5
TODAY = date(2025, 3, 1)


def extend_geography(areas: int) -> list[str]:
    """The bundled LADs plus synthetic ones up to ``areas``, put in the recipe's lookups."""
    real = recipes._area_lookup()
    regions = real.select("region_code", "region_name").unique().sort("region_code").rows()
    regions += [(f"E129999{n:02d}", f"Synthetic region {n}") for n in range(1, 10 - len(regions))]
    synthetic = pl.DataFrame(
        [
            {
                "code": f"E069{n:05d}",
                "name": f"Synthetic authority {n}",
                "upper_code": f"E069{n:05d}",
                "region_code": regions[n % len(regions)][0],
                "region_name": regions[n % len(regions)][1],
            }
            for n in range(1, max(areas - real.height, 0) + 1)
        ],
        schema=real.schema,
    )
    lookup = pl.concat([real, synthetic])
    names = dict(recipes.area_names())
    names.update(dict(zip(synthetic["code"], synthetic["name"], strict=True)))
    names.update(dict(regions))
    recipes._area_lookup = functools.cache(lambda: lookup)  # type: ignore[assignment]
    recipes.area_names = functools.cache(lambda: MappingProxyType(names))  # type: ignore[assignment]
    return lookup["code"].to_list()


def build(homes: int, days: int, areas: int, bundled_only: bool) -> pl.DataFrame:
    real = recipes._area_lookup()["code"].to_list()
    frame = many_care_homes(areas=real, homes=homes, days=days, today=TODAY)
    if bundled_only:
        return frame
    codes = pl.Series(extend_geography(areas))
    home = pl.col("cqc_location_id").str.slice(5).cast(pl.Int64)
    area = pl.lit(codes).gather(home % len(codes))
    synthetic = area.str.starts_with("E069")
    return frame.with_columns(
        ltla_cd=area,
        utla_cd=pl.when(synthetic).then(area).otherwise(pl.col("utla_cd")),
    ).rechunk()


def timed(step: Callable[[], Any], repeats: int) -> tuple[float, float, float, Any]:
    """Median, min and max wall time of ``repeats`` runs after one warm-up run."""
    result = step()
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), max(times), result


def loop_baseline(frame: pl.DataFrame) -> tuple[float, int]:
    """Seconds for the recipe's aggregation per row in plain Python over ``frame``, and the
    number of (period, level, area, measure) figures it made."""
    region_of = dict(recipes._area_lookup().select("code", "region_code").iter_rows())
    columns = [
        "report_date", "ltla_cd", "outbreak_status", "ppe_rag", "staff_absent_total",
        "staff_headcount", "vacant_beds_residential", "vacant_beds_nursing",
        "vacant_beds_dementia", "residents_covid_positive_new_24h",
        "staff_covid_positive_new_24h", "residents_covid_deaths_7d",
    ]  # fmt: skip
    rows = frame.select(columns)

    def num(value: Any) -> int:
        return int(value) if value is not None else 0

    started = time.perf_counter()
    sums: dict[tuple[Any, str, str], list[float]] = {}
    for (
        day, lad, outbreak, ppe, absent, headcount, v_res, v_nur, v_dem, res_new, staff_new, deaths
    ) in rows.iter_rows():  # fmt: skip
        figures = (
            1.0 if day is not None else 0.0,
            1.0 if outbreak in ("suspected", "confirmed") else 0.0,
            1.0 if ppe == "red" else 0.0,
            num(absent),
            num(headcount),
            num(v_res) + num(v_nur) + num(v_dem),
            num(res_new),
            num(staff_new),
            num(deaths),
        )
        region = region_of.get(lad, "")
        for key in ((day, "area", lad), (day, "region", region), (day, "all", "ALL")):
            if not key[2]:
                continue
            total = sums.get(key)
            if total is None:
                sums[key] = list(figures)
            else:
                for i, value in enumerate(figures):
                    total[i] += value
    table = []
    for (day, level, code), t in sums.items():
        rate = 100 * t[3] / t[4] if t[4] > 0 else None
        for name, value in zip(
            ("reporting", "outbreak", "red_ppe", "absence", "vacant", "res", "staff", "deaths"),
            (t[0], t[1], t[2], rate, t[5], t[6], t[7], t[8]),
            strict=True,
        ):
            table.append((day, level, code, name, value))
    table.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    return time.perf_counter() - started, len(table)


def verdict(seconds: float) -> str:
    if seconds <= GOAL_SECONDS:
        return f"{GOAL_SECONDS / seconds:.1f}x faster than the {GOAL_SECONDS} s target: met"
    return f"{seconds / GOAL_SECONDS:.1f}x slower than the {GOAL_SECONDS} s target: NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--homes", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--areas", type=int, default=300)
    parser.add_argument("--bundled-areas", action="store_true", help="only the 6 bundled LADs")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sample", type=int, default=20, help="the loop runs on 1/SAMPLE")
    parser.add_argument("--one-thread", action="store_true", help="one Polars thread")
    args = parser.parse_args()

    print(f"Building {args.homes:,} homes x {args.days} days...", flush=True)
    started = time.perf_counter()
    frame = build(args.homes, args.days, args.areas, args.bundled_areas)
    built = time.perf_counter() - started
    n_areas = frame["ltla_cd"].n_unique()
    threads = "1 thread" if args.one_thread else f"{pl.thread_pool_size()} Polars threads"
    print(
        f"{frame.height:,} rows x {frame.width} columns, {frame.estimated_size() / 1e6:.0f} MB, "
        f"{n_areas} areas, built in {built:.1f} s (not timed); Polars {pl.__version__}, "
        f"{threads}, median of {args.repeats} after a warm-up; load {_load()}"
    )

    with tempfile.TemporaryDirectory(prefix="accord-bench-dashboard-") as folder:
        parquet = Path(folder) / "compiled.parquet"
        frame.write_parquet(parquet, compression="zstd")
        size = parquet.stat().st_size / 1e6

        def compute() -> pl.DataFrame:
            return recipes.compute(CARE_HOME_STATUS, frame)

        def make() -> pl.DataFrame:
            return recipes.make_output(CARE_HOME_STATUS, frame, STANDARD)

        def from_parquet() -> pl.DataFrame:
            read = pl.read_parquet(parquet, memory_map=False)
            return recipes.make_output(CARE_HOME_STATUS, read, STANDARD)

        def read_only() -> pl.DataFrame:
            return pl.read_parquet(parquet, memory_map=False)

        results = {}
        for label, step in [
            ("(a) compute (exact table)", compute),
            ("(b) make_output: compute + protect (STANDARD)", make),
            ("(c) read Parquet + compute + protect", from_parquet),
            ("    of which: read Parquet alone", read_only),
        ]:
            print(f"  {label}...", flush=True)
            results[label] = timed(step, args.repeats)
        exact = results["(a) compute (exact table)"][3]
        output = results["(b) make_output: compute + protect (STANDARD)"][3]
        protect = timed(lambda: recipes.protect_table(CARE_HOME_STATUS, exact, STANDARD), 3)
        load_after = _load()

    sample_frame = frame.filter(
        pl.col("cqc_location_id").str.slice(5).cast(pl.Int64) % args.sample == 0
    )
    loop, loop_cells = loop_baseline(sample_frame)
    loop_scaled = loop * frame.height / sample_frame.height

    rows = frame.height
    print()
    print(f"{'phase':<48} {'median':>8} {'min-max':>13} {'rows/s':>12}  vs the 0.5 s target")
    for label, (median, low, high, _) in results.items():
        target = "" if label.startswith(" ") else verdict(median)
        print(
            f"{label:<48} {median:>7.3f}s {f'{low:.3f}-{high:.3f}':>13} "
            f"{rows / median:>12,.0f}  {target}"
        )
    print(f"{'    protect_table alone (median of 3)':<48} {protect[0]:>7.3f}s")
    print(
        f"{f'loop: per row in Python, 1/{args.sample} scaled':<48} {loop_scaled:>7.2f}s "
        f"{'':>13} {rows / loop_scaled:>12,.0f}  "
        f"(measured {loop:.2f} s on {sample_frame.height:,} rows, "
        f"x{rows / sample_frame.height:.1f})"
    )
    print()
    statuses = dict(output.group_by("status").len().sort("status").iter_rows())
    print(
        f"exact table {exact.height:,} rows; output {output.height:,} cells "
        f"({exact.select('period', 'area_level', 'area_code').n_unique():,} period x area "
        f"cells x {len(CARE_HOME_STATUS.measures)} measures); statuses {statuses}; "
        f"Parquet {size:.0f} MB"
    )
    (a_median, *_), (b_median, *_), (c_median, *_) = list(results.values())[:3]
    print(f"(a) compute: {a_median:.2f} s, {verdict(a_median)}.")
    print(f"(b) compute + protect: {b_median:.2f} s, {verdict(b_median)}.")
    print(f"(c) read + compute + protect: {c_median:.2f} s, {verdict(c_median)}.")
    print(
        f"Python loop (a 1/{args.sample} sample of the homes, extrapolated) / (a): "
        f"{loop_scaled / a_median:.0f}x ({loop_cells:,} figures in the sample's table)."
    )
    print(f"load average after the timed phases: {load_after}")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    main()
