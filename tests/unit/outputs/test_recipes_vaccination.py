"""The vaccination uptake recipe on a small hand-made snapshot: the exact sums for each
neighbourhood (LSOA), local authority, region and England, worked out by hand, and the same
table under the standard profile (counts of 1 to 7 people suppressed, other counts rounded to 5,
rates shown only when based on at least 8 people, computed from the exact figures)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from accord.outputs import recipes
from accord.outputs.disclosure import CONFIDENTIAL, ROUNDED, STANDARD, SUPPRESSED, SYMBOL
from accord.outputs.disclosure import STATUS as STATUS_COLUMN

RECIPE = recipes.VACCINATION_UPTAKE
AS_OF = dt.date(2026, 11, 15)
MAIDSTONE, CANTERBURY, HACKNEY = "E07000110", "E07000106", "E09000012"
SOUTH_EAST, LONDON = "E12000008", "E12000007"
SMALL = "E01024324"  # Maidstone 003E: 7 people
MAIDSTONE_014A = "E01024325"
CANTERBURY_006C = "E01024075"  # 8 people, nobody boosted
HACKNEY_LSOA = "E01001733"
# (LSOA, local authority, people, first doses, boosters): one row per age band and sex.
ROWS = [
    (SMALL, MAIDSTONE, 4, 2, 1),
    (SMALL, MAIDSTONE, 3, 3, 0),
    (MAIDSTONE_014A, MAIDSTONE, 60, 50, 12),
    (MAIDSTONE_014A, MAIDSTONE, 52, 40, 11),
    (CANTERBURY_006C, CANTERBURY, 8, 6, 0),
    (HACKNEY_LSOA, HACKNEY, 120, 90, 25),
    (HACKNEY_LSOA, HACKNEY, 80, 60, 15),
]
# (level, code): (people, first doses, boosters), added up by hand.
EXPECTED = {
    ("lsoa", SMALL): (7, 5, 1),
    ("lsoa", MAIDSTONE_014A): (112, 90, 23),
    ("lsoa", CANTERBURY_006C): (8, 6, 0),
    ("lsoa", HACKNEY_LSOA): (200, 150, 40),
    ("area", MAIDSTONE): (119, 95, 24),
    ("area", CANTERBURY): (8, 6, 0),
    ("area", HACKNEY): (200, 150, 40),
    # The upper tier: Kent for its districts, a London borough is its own.
    ("upper", "E10000016"): (127, 101, 24),
    ("upper", HACKNEY): (200, 150, 40),
    ("region", SOUTH_EAST): (127, 101, 24),
    ("region", LONDON): (200, 150, 40),
    ("all", recipes.ALL_CODE): (327, 251, 64),
}
# (level, code): (people, boosters, first-dose uptake, booster uptake) as published; None for
# a suppressed or masked figure.
PUBLISHED = {
    ("lsoa", SMALL): (None, None, None, None),
    ("lsoa", MAIDSTONE_014A): (110, 25, 80.4, 20.5),
    ("lsoa", CANTERBURY_006C): (10, 0, 75.0, 0.0),
    ("lsoa", HACKNEY_LSOA): (200, 40, 75.0, 20.0),
    ("area", MAIDSTONE): (120, 25, 79.8, 20.2),
    ("area", CANTERBURY): (10, 0, 75.0, 0.0),
    ("area", HACKNEY): (200, 40, 75.0, 20.0),
    ("upper", "E10000016"): (125, 25, 79.5, 18.9),
    ("upper", HACKNEY): (200, 40, 75.0, 20.0),
    ("region", SOUTH_EAST): (125, 25, 79.5, 18.9),
    ("region", LONDON): (200, 40, 75.0, 20.0),
    ("all", recipes.ALL_CODE): (325, 65, 76.8, 19.6),
}
MEASURES = ("population", "booster_count", "dose1_uptake_pct", "booster_uptake_pct")


def _records() -> pl.DataFrame:
    return pl.DataFrame(
        ROWS,
        schema=["lsoa21cd", "ltla_cd", "nims_population", "dose1_count", "booster_count"],
        orient="row",
    ).with_columns(
        as_of_date=pl.lit(AS_OF),
        age_band=pl.lit("80+"),
        sex=pl.lit("female"),
        dose2_count=pl.col("dose1_count"),
        suppressed=pl.lit(False),
    )


def _cells(table: pl.DataFrame, column: str = recipes.VALUE) -> dict[tuple[str, str, str], object]:
    return {
        (row[recipes.LEVEL], row[recipes.CODE], row[recipes.MEASURE]): row[column]
        for row in table.iter_rows(named=True)
    }


@pytest.fixture(scope="module")
def exact() -> pl.DataFrame:
    return recipes.compute(RECIPE, _records())


@pytest.fixture(scope="module")
def protected(exact: pl.DataFrame) -> pl.DataFrame:
    return recipes.protect_table(RECIPE, exact, STANDARD)


def test_every_level_has_every_measure_once(exact: pl.DataFrame) -> None:
    assert exact[recipes.PERIOD].unique().to_list() == [AS_OF]
    keys = exact.select(recipes.LEVEL, recipes.CODE).unique().rows()
    assert set(keys) == set(EXPECTED)
    assert exact.height == len(EXPECTED) * len(MEASURES)
    assert exact.select(recipes.LEVEL, recipes.CODE, recipes.MEASURE).is_unique().all()


def test_the_exact_sums_and_rates_are_the_hand_worked_ones(exact: pl.DataFrame) -> None:
    values, ns = _cells(exact), _cells(exact, "n")
    for (level, code), (people, dose1, boosted) in EXPECTED.items():
        assert values[(level, code, "population")] == people, (level, code)
        assert values[(level, code, "booster_count")] == boosted, (level, code)
        assert values[(level, code, "dose1_uptake_pct")] == pytest.approx(100 * dose1 / people)
        assert values[(level, code, "booster_uptake_pct")] == pytest.approx(100 * boosted / people)
        # A rate's n is its denominator: the people it is computed from.
        assert ns[(level, code, "dose1_uptake_pct")] == people
        assert ns[(level, code, "booster_uptake_pct")] == people


def test_areas_are_named_from_the_geography(exact: pl.DataFrame) -> None:
    names = dict(exact.select(recipes.CODE, recipes.NAME).unique().rows())
    assert names[MAIDSTONE] == "Maidstone"
    assert names[SMALL] == "Maidstone 003E"
    assert names[SOUTH_EAST] == "South East"
    assert names[recipes.ALL_CODE] == "England (all areas reported)"


def test_the_published_table_is_the_hand_worked_one(protected: pl.DataFrame) -> None:
    assert protected.columns == list(recipes.COLUMNS)
    values = _cells(protected)
    for (level, code), expected in PUBLISHED.items():
        shown = tuple(values[(level, code, measure)] for measure in MEASURES)
        assert shown == expected, (level, code)


def test_small_counts_are_suppressed_and_the_rest_rounded_to_five(
    protected: pl.DataFrame, exact: pl.DataFrame
) -> None:
    statuses, symbols = _cells(protected, STATUS_COLUMN), _cells(protected, SYMBOL)
    truth = _cells(exact)
    counts = protected.filter(pl.col(recipes.MEASURE).is_in(["population", "booster_count"]))
    for row in counts.iter_rows(named=True):
        key = (row[recipes.LEVEL], row[recipes.CODE], row[recipes.MEASURE])
        if 1 <= truth[key] <= 7:
            assert row[recipes.VALUE] is None, key
            assert statuses[key] == SUPPRESSED, key
            assert symbols[key] == CONFIDENTIAL
        else:
            assert row[recipes.VALUE] % 5 == 0, key
            assert abs(row[recipes.VALUE] - truth[key]) <= 2, key
    assert statuses[("area", MAIDSTONE, "population")] == ROUNDED


def test_rates_are_hidden_below_eight_people_and_shown_from_eight(
    protected: pl.DataFrame,
) -> None:
    values, statuses = _cells(protected), _cells(protected, STATUS_COLUMN)
    symbols = _cells(protected, SYMBOL)
    for measure in ("dose1_uptake_pct", "booster_uptake_pct"):
        hidden = ("lsoa", SMALL, measure)  # 7 people
        assert values[hidden] is None
        assert statuses[hidden] == SUPPRESSED
        assert symbols[hidden] == CONFIDENTIAL
        shown = ("lsoa", CANTERBURY_006C, measure)  # 8 people: just enough
        assert values[shown] is not None
        assert symbols[shown] == ""
    # Computed from the exact figures, not the rounded ones: 90 / 112, not 90 / 110.
    assert values[("lsoa", MAIDSTONE_014A, "dose1_uptake_pct")] == 80.4


def test_no_exact_count_of_people_survives(protected: pl.DataFrame) -> None:
    counts = protected.filter(
        pl.col(recipes.MEASURE).is_in(["population", "booster_count"])
        & pl.col(recipes.VALUE).is_not_null()
        & (pl.col(recipes.VALUE) != 0)
    )
    assert (counts[recipes.VALUE] % 5 == 0).all()
    assert (counts[STATUS_COLUMN] == ROUNDED).all()
