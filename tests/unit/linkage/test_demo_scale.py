"""The engine on the demo's single view of vulnerability, at the size a council links: five
sources of a few hundred to 1,550 records, most of them with no names, linked as they are in
the demo. The truth is known (``accord.demo.vulnerability.truth``), so the links can be scored;
this guards the defaults at this scale, where training has little to learn from (the benchmark,
bench/linkage.py, guards them at 100k and 1M)."""

from __future__ import annotations

import datetime as dt
import functools

import polars as pl
import pytest

from accord.demo import vulnerability
from accord.linkage import columns, engine, single_view
from accord.linkage.single_view import STANDARDS

DAY = dt.date(2026, 10, 1)


@functools.cache
def _linked() -> tuple[engine.LinkResult, pl.DataFrame, dict[str, pl.DataFrame]]:
    truth = vulnerability.truth(DAY).with_columns(
        who=pl.coalesce("parent", "person"),  # free school meals compare the parent
        record_id=(pl.col("row") + 1).cast(pl.String),
    )
    frames = {
        standard: columns.standardise(vulnerability._published(standard, DAY), standard)
        for standard in STANDARDS
    }
    result = engine.link(
        [engine.Source(name, frame) for name, frame in frames.items()], engine.template("person")
    )
    return result, truth, frames


def _pairs(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """Every cross-source pair of records sharing ``key``."""
    left = frame.select("source", "record_id", key)
    joined = left.join(left, on=key, suffix="_r").filter(pl.col("source") < pl.col("source_r"))
    return joined.select("source", "record_id", "source_r", "record_id_r")


def _informative(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Records that say who the person is: a date of birth or an NHS number. A quarter of the
    council tax accounts give neither, only the home: at person level they cannot be told from
    anyone else in the household, and are not expected to link."""
    return pl.concat(
        frame.select(
            pl.lit(name).alias("source"),
            "record_id",
            pl.any_horizontal(
                pl.col(c).is_not_null()
                for c in ("date_of_birth", "nhs_number")
                if c in frame.columns
            ).alias("informative"),
        )
        for name, frame in frames.items()
    ).filter("informative")


def test_people_who_can_be_told_apart_link_with_high_precision_and_recall() -> None:
    result, truth, frames = _linked()
    keys = ["source", "record_id", "source_r", "record_id_r"]
    found = _pairs(result.clusters.filter(pl.col("stage") != "unmatched"), "entity_id")
    true = _pairs(truth.select("source", "record_id", "who"), "who")
    precision = found.join(true, on=keys).height / found.height
    known = _informative(frames).drop("informative")
    telling = true.join(known, on=["source", "record_id"]).join(
        known.rename({"source": "source_r", "record_id": "record_id_r"}),
        on=["source_r", "record_id_r"],
    )
    recall = telling.join(found, on=keys).height / telling.height
    assert precision >= 0.97, (precision, recall)
    assert recall >= 0.93, (precision, recall)


def test_almost_every_record_lands_in_its_own_household() -> None:
    result, truth, frames = _linked()
    records = {
        name: frame.join(
            result.clusters.filter(pl.col("source") == name).select("record_id", "entity_id"),
            on="record_id",
        )
        for name, frame in frames.items()
    }
    homes = single_view.entity_uprns(records)
    placed = (
        pl.concat(
            records[name].select(pl.lit(name).alias("source"), "record_id", "entity_id")
            for name in records
        )
        .join(homes, on="entity_id", how="left")
        .join(truth.select("source", "record_id", "household_uprn"), on=["source", "record_id"])
    )
    right = (placed["uprn"] == placed["household_uprn"].cast(pl.String)).mean()
    assert right is not None
    assert right >= 0.97


def test_the_demo_has_matches_of_each_stage_and_pairs_to_review() -> None:
    result, _, _ = _linked()
    assert result.stats["stages"]["exact"] > 0
    assert result.stats["stages"]["probabilistic"] > 0
    # Enough to review (about two in three are true matches), not a flood: 2,900 records.
    assert 10 <= result.borderline.height <= 500


@pytest.mark.parametrize("standard", STANDARDS)
def test_every_source_takes_part(standard: str) -> None:
    result, _, _ = _linked()
    mine = result.clusters.filter(pl.col("source") == standard)
    assert mine.height > 0
    assert mine.filter(pl.col("stage") != "unmatched").height > 0
