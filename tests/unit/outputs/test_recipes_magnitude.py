"""When a definition controls organisational measures, vacant beds (a magnitude) are protected
by their contributors: enough homes, none dominant; counts of homes become controlled counts."""

from __future__ import annotations

import datetime as dt

import polars as pl

from accord.outputs import disclosure, recipes

DAY = dt.date(2026, 11, 20)
MAIDSTONE, CANTERBURY, MEDWAY = "E07000110", "E07000106", "E06000035"


def _homes(area: str, beds: list[int], first: int) -> pl.DataFrame:
    n = len(beds)
    return pl.DataFrame(
        {
            "report_date": [DAY] * n,
            "cqc_location_id": [f"1-{first + i:09d}" for i in range(n)],
            "ltla_cd": [area] * n,
            "icb_cd": ["E54000032"] * n,
            "outbreak_status": ["none"] * n,
            "ppe_rag": ["green"] * n,
            "staff_absent_total": [1] * n,
            "staff_headcount": [40] * n,
            "vacant_beds_residential": beds,
            "vacant_beds_nursing": [0] * n,
            "vacant_beds_dementia": [0] * n,
            "residents_covid_positive_new_24h": [0] * n,
            "staff_covid_positive_new_24h": [0] * n,
            "residents_covid_deaths_7d": [0] * n,
        }
    )


RECORDS = pl.concat(
    [
        _homes(MAIDSTONE, [2] * 12, 0),  # twelve homes, two beds each: safe to publish
        _homes(CANTERBURY, [100] + [1] * 11, 100),  # one home has nearly all the beds
        _homes(MEDWAY, [3, 4, 5], 200),  # three homes: too few
    ]
)


def _cells(profile: disclosure.Profile) -> dict[tuple[str, str], dict]:
    table = recipes.make_output(recipes.CARE_HOME_STATUS, RECORDS, profile)
    return {
        (r[recipes.CODE], r[recipes.MEASURE]): r
        for r in table.filter(pl.col(recipes.LEVEL) == "area").iter_rows(named=True)
    }


def test_organisational_measures_are_published_as_reported_by_default() -> None:
    cells = _cells(disclosure.STANDARD)
    assert cells[(MEDWAY, "vacant_beds_total")][recipes.VALUE] == 12
    assert cells[(MEDWAY, "homes_reporting")][recipes.VALUE] == 3
    assert cells[(CANTERBURY, "vacant_beds_total")][disclosure.STATUS] == "published"


def test_controlled_vacant_beds_follow_the_magnitude_rules() -> None:
    cells = _cells(disclosure.STANDARD.controlling_organisational())
    safe = cells[(MAIDSTONE, "vacant_beds_total")]
    assert (safe[recipes.VALUE], safe[disclosure.STATUS]) == (24, "published")
    dominated = cells[(CANTERBURY, "vacant_beds_total")]
    assert dominated[recipes.VALUE] is None
    assert dominated[disclosure.SYMBOL] == "[c]"
    assert dominated[disclosure.EXPLANATION] == (
        "Suppressed: one contributor makes up more than 90% of this total."
    )
    few = cells[(MEDWAY, "vacant_beds_total")]
    assert few[recipes.VALUE] is None
    assert few[disclosure.EXPLANATION].startswith("Suppressed: fewer than 10 contributors")
    # Counts of homes are now controlled like counts of people: three homes is suppressed.
    assert cells[(MEDWAY, "homes_reporting")][recipes.VALUE] is None
    assert cells[(MAIDSTONE, "homes_reporting")][recipes.VALUE] == 10  # 12, rounded to 5
