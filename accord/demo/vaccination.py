"""The demo's vaccination uptake dashboard (use case 4.1, issue 8): UKHSA collects weekly Covid
vaccination counts by LSOA, age band and sex, and returns "Vaccination uptake by area" to the
councils and the ICB of Kent and Medway, each with its own area highlighted and benchmarked
against its region and England.

UKHSA holds the National Immunisation Management System extract itself, so it sends the last
four weeks' snapshots for Kent's districts and Medway to its own collection (an owner sending
to its own collection needs no agreement). The counts it sends are exact (nothing suppressed at
source): the output's disclosure control protects them, suppressing small counts of people,
rounding the rest and hiding rates of fewer than eight people. The counts are not personal data
(aggregates by LSOA), so the collection runs under the demo framework, which is also the basis
on which each council in the audience is granted the output.

The figures are synthetic: many small cells (5 to 120 people in each LSOA, age band and sex),
first-dose uptake rising with age and lower in more deprived neighbourhoods, and the seasonal
booster taken up mostly by people aged 65 and over as the campaign goes on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import polars as pl
from django.utils import timezone

from accord.agreements.models import Framework
from accord.organisations.models import Organisation
from accord.outputs import actions as output_actions
from accord.outputs.models import OutputDefinition, Profile
from accord.standards.queries import get_standard
from accord.submissions import actions, periods
from accord.submissions.models import Collection

from .datasets import CANTERBURY, MAIDSTONE, TUNBRIDGE_WELLS, lsoas_in
from .frameworks import SLUG as FRAMEWORK_SLUG
from .housing_benefit import member_actor

STANDARD = "vaccination-uptake-lsoa"
SLUG = "vaccination-uptake-lsoa-demo"
NAME = "Vaccination uptake by LSOA (demo)"
OUTPUT_SLUG = "vaccination-uptake-by-area"
OUTPUT_NAME = "Vaccination uptake by area"
RECIPE = "vaccination-uptake"
OWNER = "ukhsa"
MEDWAY = "E06000035"
DISTRICTS = (MAIDSTONE, CANTERBURY, TUNBRIDGE_WELLS, MEDWAY)
AUDIENCE = ("kent", "maidstone", "canterbury", "tunbridgewells", "medway", "kmicb")
WEEKS = 4
# Each week's snapshot (to Sunday) is due by noon on the Tuesday after.
DEADLINE_DAYS = 2
DEADLINE_TIME = dt.time(12, 0)
CAVEAT = (
    "Synthetic demo data: the counts are made up. LSOAs, districts and deprivation deciles are "
    "real codes; the deciles and uptake are not the real ones."
)

COLUMNS = (
    "as_of_date",
    "lsoa21cd",
    "ltla_cd",
    "age_band",
    "sex",
    "nims_population",
    "dose1_count",
    "dose2_count",
    "booster_count",
    "dose1_uptake_pct",
    "booster_uptake_pct",
    "imd_decile",
    "suppressed",
)
# Per age band: first-dose uptake (per cent, least deprived neighbourhoods) and, at the end of
# a seasonal campaign, the share of people with two doses who have had its booster (per cent).
# Roughly England's shape: children little, the oldest nearly all; boosters for 65 and over.
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-4", 1, 0),
    ("5-9", 6, 0),
    ("10-14", 28, 0),
    ("15-19", 55, 1),
    ("20-24", 60, 2),
    ("25-29", 62, 2),
    ("30-34", 66, 3),
    ("35-39", 70, 3),
    ("40-44", 75, 4),
    ("45-49", 80, 5),
    ("50-54", 85, 6),
    ("55-59", 88, 8),
    ("60-64", 90, 10),
    ("65-69", 92, 55),
    ("70-74", 94, 68),
    ("75-79", 95, 76),
    ("80+", 95, 80),
)
SEXES = ("female", "male")
# Seasonal campaigns start on these days (month, day); the booster count starts again with each.
CAMPAIGN_STARTS = ((4, 1), (10, 1))
CAMPAIGN_WEEKS = 12  # most of a campaign's boosters are given in its first twelve weeks


def _hashed(key: pl.Expr, seed: int, modulo: int) -> pl.Expr:
    return (key.hash(seed) % modulo).cast(pl.Int64)


def _hashed_below(key: pl.Expr, seed: int, bound: pl.Expr) -> pl.Expr:
    """Like ``_hashed``, below a bound that varies by row (a positive integer expression)."""
    return (key.hash(seed) % bound.cast(pl.UInt64)).cast(pl.Int64)


def campaign_progress(as_of: dt.date) -> float:
    """How far the seasonal booster campaign running on ``as_of`` has got, from just begun (a
    week's boosters) to 1 (over twelve weeks in)."""
    starts = [
        dt.date(year, month, day)
        for year in (as_of.year - 1, as_of.year)
        for month, day in CAMPAIGN_STARTS
    ]
    start = max(s for s in starts if s <= as_of)
    return min(1.0, ((as_of - start).days + 7) / (7 * CAMPAIGN_WEEKS))


def vaccination_uptake(
    as_of: dt.date, districts: Sequence[str] = DISTRICTS, *, seed: int = 61
) -> pl.DataFrame:
    """One NIMS snapshot taken on ``as_of``, as the vaccination-uptake-lsoa standard (1.0) has
    it: a row for every bundled LSOA of ``districts`` (district, unitary or borough codes), age
    band and sex (no "all" rows, so the rows add up without counting anyone twice).

    Populations, first and second doses stay the same from week to week (each row's figures
    come from a hash of its LSOA, age band and sex); boosters grow as the campaign goes on.
    Nothing is suppressed at source: 0 <= boosters <= second doses <= first doses <= NIMS
    population, and the uptake percentages are the counts over the population to one decimal.
    """
    lsoas = [(lsoa, district) for district in districts for lsoa in lsoas_in(district)]
    areas = pl.DataFrame(
        {"lsoa21cd": [lsoa for lsoa, _ in lsoas], "ltla_cd": [d for _, d in lsoas]},
        schema={"lsoa21cd": pl.String, "ltla_cd": pl.String},
    ).with_columns(imd_decile=1 + _hashed(pl.col("lsoa21cd"), seed, 10))
    ages = pl.DataFrame(
        {
            "age_band": [band for band, _, _ in AGE_BANDS],
            "_order": list(range(len(AGE_BANDS))),
            "_dose1_pct": [dose1 for _, dose1, _ in AGE_BANDS],
            "_booster_pct": [booster for _, _, booster in AGE_BANDS],
        },
        schema={
            "age_band": pl.String,
            "_order": pl.Int64,
            "_dose1_pct": pl.Int64,
            "_booster_pct": pl.Int64,
        },
    )
    sexes = pl.DataFrame({"sex": list(SEXES)}, schema={"sex": pl.String})
    key = pl.concat_str("lsoa21cd", "age_band", "sex", separator="|")
    population = pl.col("nims_population")
    # The most deprived tenth of neighbourhoods take up a fifth fewer first doses.
    deprivation = 0.8 + 0.02 * (pl.col("imd_decile") - 1) / 0.9
    dose1_pct = (pl.col("_dose1_pct") * deprivation + _hashed(key, seed + 2, 9) - 4).clip(0, 100)
    dose1 = (population * dose1_pct / 100).floor().cast(pl.Int64)
    dose2 = pl.col("dose1_count") - _hashed_below(key, seed + 3, pl.col("dose1_count") // 8 + 1)
    booster_share = pl.col("_booster_pct") * deprivation * campaign_progress(as_of) / 100
    booster = (pl.col("dose2_count") * booster_share).floor().cast(pl.Int64)
    return (
        areas.join(ages, how="cross")
        .join(sexes, how="cross")
        .with_columns(nims_population=5 + _hashed(key, seed + 1, 116))
        .with_columns(dose1_count=dose1)
        .with_columns(dose2_count=dose2)
        .with_columns(booster_count=booster)
        .with_columns(
            as_of_date=pl.lit(as_of, dtype=pl.Date),
            dose1_uptake_pct=(100 * pl.col("dose1_count") / population).round(1),
            booster_uptake_pct=(100 * pl.col("booster_count") / population).round(1),
            suppressed=pl.lit(False),
        )
        .sort("lsoa21cd", "_order", "sex")
        .select(COLUMNS)
    )


# The collection and the output -----------------------------------------------------------------


def _weeks() -> list[dt.date]:
    """The first days (Mondays) of the last ``WEEKS`` whole weeks, oldest first."""
    this_week = periods.start_of("weekly", timezone.localdate())
    return [this_week - dt.timedelta(weeks=n) for n in range(WEEKS, 0, -1)]


def store_demo_vaccination(organisations: Mapping[str, Organisation]) -> list[str]:
    """UKHSA's vaccination uptake collection, its last four weekly returns and the dashboard
    output where missing; say what was created. Idempotent: what testers did stays."""
    from .loader import demo_actor  # the loader imports this module

    created: list[str] = []
    ukhsa = organisations[OWNER]
    weeks = _weeks()
    collection = Collection.objects.filter(slug=SLUG).first()
    if collection is None:
        collection = actions.create_collection(
            by=demo_actor(),
            owner=ukhsa,
            slug=SLUG,
            name=NAME,
            description="Each week's NIMS snapshot of Covid vaccination uptake by LSOA, age "
            "band and sex, from which UKHSA returns uptake by area to the councils and the ICB "
            "so they can find neighbourhoods with low uptake and target outreach.",
            standard=get_standard(STANDARD),
            schedule="weekly",
            starts_on=weeks[0],
            deadline_days=DEADLINE_DAYS,
            deadline_time=DEADLINE_TIME,
            invalid_rows="reject",
            framework=Framework.objects.get(slug=FRAMEWORK_SLUG),
        )
        created.append(f"collection {NAME}")
    if not collection.contributors.filter(organisation=ukhsa).exists():
        actions.add_contributor(by=demo_actor(), collection=collection, organisation=ukhsa)
        created.append(f"contributor {ukhsa.name} to {NAME}")
    if not collection.submissions.exists():
        created.extend(_send_history(collection, ukhsa, weeks))
    if not OutputDefinition.objects.filter(slug=OUTPUT_SLUG).exists():
        owner = member_actor(ukhsa, frozenset({"analyst"}))
        if owner is not None:
            output_actions.define_output(
                by=owner,
                collection=collection,
                slug=OUTPUT_SLUG,
                name=OUTPUT_NAME,
                recipe=RECIPE,
                profile=Profile.STANDARD,
                audience=[organisations[key] for key in AUDIENCE],
            )
            created.append(f"output {OUTPUT_NAME}")
    _run_queued()
    return created


def _send_history(
    collection: Collection, ukhsa: Organisation, weeks: Sequence[dt.date]
) -> list[str]:
    sender = member_actor(ukhsa, frozenset(str(role) for role in actions.SUBMITTING_ROLES))
    if sender is None:
        return []
    weeks = [week for week in weeks if week >= collection.starts_on]
    for week in weeks:
        as_of = periods.end_of("weekly", week)  # the Sunday the snapshot was taken
        actions.receive(
            by=sender,
            collection=collection,
            period=week,
            filename=f"vaccination-uptake-lsoa-{as_of:%Y-%m-%d}.csv",
            source=vaccination_uptake(as_of).write_csv().encode(),
            caveats=CAVEAT,
            via="cli",  # loaded by `accord demo`
        )
    return [f"{len(weeks)} weekly returns from {ukhsa.name} to {NAME}"] if weeks else []


def _run_queued() -> None:
    """Run the checks, compilation and output the returns queued: the demo starts with the
    dashboard made. (The immediate task backend has run them already.)"""
    from accord.tasks.worker import run_queued, uses_database_backend

    if uses_database_backend():
        run_queued()
