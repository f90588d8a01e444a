"""Vetted output recipes: how an aggregate is made from a collection's records.

A recipe names the standard its records follow, the period column, the geographies it breaks
down by (each a level: local authority, region, everyone) and its measures. ``compute`` turns
the records into one long table (period x area x measure) with Polars group-bys, one per level,
and ``protect_table`` applies a disclosure control profile to it:

* a **count of people** (residents with Covid, people boosted) is controlled by the profile;
* an **organisational measure** (homes in outbreak, vacant beds, a staff absence rate) is
  published unchanged unless the profile controls organisational measures too, so an
  operational dashboard stays useful (issue 8: "protect people, not rows and not
  organisations");
* a **rate** of people is shown only when its denominator reaches the profile's minimum n,
  and is computed from the exact figures, never from rounded ones.

Totals (a region, everyone) are computed from the exact records and then protected like any
other cell: they may not add up to the rounded parts, and the outputs say so. Nothing here
loops over records or cells in Python.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

import polars as pl

from accord.demo.geography import LAD_ENTITIES, AreaEntity, geography

from . import disclosure
from .disclosure import Profile

# The columns of every output table, in order.
PERIOD = "period"
LEVEL = "area_level"
CODE = "area_code"
NAME = "area_name"
MEASURE = "measure"
VALUE = "value"
COLUMNS = (
    PERIOD,
    LEVEL,
    CODE,
    NAME,
    MEASURE,
    VALUE,
    disclosure.STATUS,
    disclosure.SYMBOL,
    disclosure.EXPLANATION,
)
ALL_CODE = "ALL"

Kind = Literal["count", "magnitude", "rate"]


@dataclass(frozen=True)
class Measure:
    """One figure per cell. ``numerator`` is summed over the cell's records; a rate divides
    it by the sum of ``denominator`` (x 100). ``people``: a count of people, which the profile
    controls; otherwise an organisational measure."""

    name: str
    label: str
    kind: Kind
    numerator: pl.Expr
    people: bool
    unit: str = ""
    denominator: pl.Expr | None = None
    # Higher is worse (outbreaks, absence): charts and benchmarks say so.
    higher_is_worse: bool = True


@dataclass(frozen=True)
class Level:
    """A geography the output breaks down by: ``column`` holds each record's code for it
    ("" for everyone)."""

    name: str
    label: str
    column: str = ""


@dataclass(frozen=True)
class Recipe:
    slug: str
    title: str
    description: str
    standard: str  # the standard's slug its collection must follow
    period_column: str
    levels: tuple[Level, ...]
    measures: tuple[Measure, ...]
    # Row-level work on the records before they are summed (casts, leaving out subtotals).
    prepare: Callable[[pl.LazyFrame], pl.LazyFrame] = field(default=lambda frame: frame)
    # Level columns derived from those the records carry, added to the sums (a district's
    # county and region): looked up once per period and area, not once per record.
    derive: Callable[[pl.LazyFrame], pl.LazyFrame] = field(default=lambda frame: frame)
    # The column naming who contributed each record (a home), for the magnitude rules.
    contributor: str = ""
    # What "today" shows first on a dashboard.
    headline: tuple[str, ...] = ()
    # The level a contributor's own area is found at, with the record column naming it.
    own_level: str = "area"

    def measure(self, name: str) -> Measure:
        for m in self.measures:
            if m.name == name:
                return m
        raise KeyError(name)


# --- geography ---------------------------------------------------------------------------------


@functools.cache
def _area_lookup() -> pl.DataFrame:
    """Every local authority district in the bundled geography with its name and region."""
    geo = geography()
    rows = []
    for area in geo.of_entity(*LAD_ENTITIES):
        ancestors = geo.ancestors(area.code)
        region = next((a for a in ancestors if a.entity is AreaEntity.REGION), None)
        county = next((a for a in ancestors if a.entity is AreaEntity.COUNTY), None)
        rows.append(
            {
                "code": area.code,
                "name": area.name,
                "upper_code": county.code if county else area.code,
                "region_code": region.code if region else "",
                "region_name": region.name if region else "",
            }
        )
    columns = ("code", "name", "upper_code", "region_code", "region_name")
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String))


@functools.cache
def area_names() -> Mapping[str, str]:
    """Names of every area in the bundled geography, by code."""
    return MappingProxyType({area.code: area.name for area in geography()})


def with_region(frame: pl.LazyFrame, lad_column: str) -> pl.LazyFrame:
    """``frame`` with ``upper_cd`` (the county of a district, else the authority itself: the
    upper-tier authority, which runs social care) and ``region_cd``, for each record's local
    authority district."""
    lookup = (
        _area_lookup()
        .lazy()
        .select(
            pl.col("code").alias(lad_column),
            pl.col("upper_code").alias("upper_cd"),
            pl.col("region_code").alias("region_cd"),
        )
    )
    return frame.join(lookup, on=lad_column, how="left").with_columns(
        pl.col("upper_cd").fill_null(pl.col(lad_column)), pl.col("region_cd").fill_null("")
    )


# --- computing ----------------------------------------------------------------------------------


def _aggregations(recipe: Recipe) -> list[pl.Expr]:
    exprs: list[pl.Expr] = []
    for m in recipe.measures:
        exprs.append(m.numerator.cast(pl.Float64).sum().alias(f"{m.name}__n"))
        if m.denominator is not None:
            exprs.append(m.denominator.cast(pl.Float64).sum().alias(f"{m.name}__d"))
    return exprs


def _finest(
    recipe: Recipe,
    records: pl.DataFrame | pl.LazyFrame,
    aggregations: list[pl.Expr],
    by: list[pl.Expr] | None = None,
) -> pl.DataFrame:
    """``aggregations`` of the prepared records by period, the level columns the records
    carry (and ``by``), with the derived level columns added to the sums."""
    frame = recipe.prepare(records.lazy()).with_columns(
        pl.col(recipe.period_column).cast(pl.Date).alias(PERIOD)
    )
    present = set(frame.collect_schema().names())
    raw = [level.column for level in recipe.levels if level.column in present]
    keys = [pl.col(column).cast(pl.String).fill_null("") for column in raw]
    return recipe.derive(frame.group_by(PERIOD, *(by or []), *keys).agg(aggregations)).collect()


def compute(recipe: Recipe, records: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """The exact (unprotected) long table: one row per period, area and measure, with
    ``value`` (the count, sum or rate) and ``n`` (a rate's denominator; else the value).
    Never published as it is: ``protect_table`` makes it safe.

    The records are read once: summed by period and the level columns they carry (the finest
    breakdown); the levels derived from those (``Recipe.derive``: a district's county and
    region) are looked up on the sums, not on every record; each level is then the sum of the
    sums (every measure is a sum, or a rate of two sums), and the wide table of period x area
    is unpivoted into one row per measure."""
    aggregations = _aggregations(recipe)
    sums = [expr.meta.output_name() for expr in aggregations]
    finest = _finest(recipe, records, aggregations)
    parts = []
    for level in recipe.levels:
        code = pl.col(level.column).fill_null("") if level.column else pl.lit(ALL_CODE)
        parts.append(
            finest.lazy()
            .with_columns(code.alias(CODE))
            .filter(pl.col(CODE) != "")
            .group_by(PERIOD, CODE)
            .agg(pl.col(sums).sum())
            .with_columns(pl.lit(level.name).alias(LEVEL))
        )
    names = pl.DataFrame(
        {"code": list(area_names()), "name": list(area_names().values())},
        schema={"code": pl.String, "name": pl.String},
    ).lazy()
    labels = {level.name: level.label for level in recipe.levels}
    values, ns = [], []
    for m in recipe.measures:
        numerator = pl.col(f"{m.name}__n")
        if m.kind == "rate":
            denominator = pl.col(f"{m.name}__d")
            values.append(
                pl.when(denominator > 0).then(100 * numerator / denominator).alias(m.name)
            )
            ns.append(denominator.alias(m.name))
        else:
            values.append(numerator.alias(m.name))
            ns.append(numerator.alias(m.name))
    index = [PERIOD, LEVEL, CODE, NAME]
    wide = (
        pl.concat(parts, how="vertical_relaxed")
        .join(names, left_on=CODE, right_on="code", how="left")
        .with_columns(
            pl.when(pl.col(CODE) == ALL_CODE)
            .then(pl.col(LEVEL).replace_strict(labels, default=""))
            .otherwise(pl.col("name").fill_null(pl.col(CODE)))
            .alias(NAME)
        )
        .collect()
    )
    # One block of rows per measure; the measure column an enumeration (a small integer a
    # row), so choosing and filtering by measure never compares text.
    measure_type = pl.Enum([m.name for m in recipe.measures])
    return pl.concat(
        [
            wide.select(
                *index,
                pl.lit(m.name, dtype=measure_type).alias(MEASURE),
                value.cast(pl.Float64).alias(VALUE),
                n.cast(pl.Float64).alias("n"),
            )
            for m, value, n in zip(recipe.measures, values, ns, strict=True)
        ]
    )


# --- protecting ---------------------------------------------------------------------------------

_ORGANISATIONAL_RATE = (
    "An organisational measure, not a count of people: published, to one decimal place."
)
_RATE_SHOWN = "Computed from the exact figures and shown to one decimal place."


def protect_table(
    recipe: Recipe,
    exact: pl.DataFrame,
    profile: Profile,
    *,
    magnitudes: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``exact`` (from ``compute``) as it may be published under ``profile``: every value
    replaced by the value to show, with its status, GSS symbol and explanation; no exact
    figure of people survives."""

    def named(kind: str) -> pl.Expr:
        return pl.col(MEASURE).is_in([m.name for m in recipe.measures if m.kind == kind])

    kinds = pl.Enum(["count", "magnitude", "rate"])
    table = exact.with_columns(
        pl.when(named("rate"))
        .then(pl.lit("rate", dtype=kinds))
        .when(named("magnitude"))
        .then(pl.lit("magnitude", dtype=kinds))
        .otherwise(pl.lit("count", dtype=kinds))
        .alias("_kind"),
        pl.col(MEASURE).is_in([m.name for m in recipe.measures if m.people]).alias("_people"),
    )
    rate = pl.col("_kind") == "rate"
    controlled = pl.col("_people") | pl.lit(profile.control_organisational)
    # Organisational counts and sums pass through as reported: no per-cell rules to apply, so
    # they are not sent through the engine (most of a care home dashboard's cells).
    passed = table.filter(~rate & ~controlled).with_columns(
        pl.lit(disclosure.PUBLISHED).alias(disclosure.STATUS),
        pl.lit("").alias(disclosure.SYMBOL),
        pl.lit(disclosure.EXPLAIN_ORGANISATIONAL).alias(disclosure.EXPLANATION),
    )
    counted = ~rate & controlled
    parts = []
    if magnitudes is not None:
        # Magnitudes protected by their contributors (protect_magnitudes), not as counts.
        magnitude = pl.col("_kind") == "magnitude"
        counted = counted & ~magnitude
        parts.append(
            table.filter(magnitude & controlled)
            .select(PERIOD, LEVEL, CODE, NAME, MEASURE)
            .join(
                magnitudes.with_columns(pl.col(MEASURE).cast(table.schema[MEASURE])),
                on=[PERIOD, LEVEL, CODE, MEASURE],
                how="left",
            )
        )
    parts += [
        passed,
        _protect_counts(table.filter(counted), profile),
        _protect_rates(table.filter(rate), profile),
    ]
    # Not sorted: readers filter what they show, and downloads sort (download_table).
    return pl.concat([part.select(COLUMNS) for part in parts], how="vertical_relaxed")


def _protect_counts(counts: pl.DataFrame, profile: Profile) -> pl.DataFrame:
    as_counts = counts.with_columns(pl.col(VALUE).round(0).cast(pl.Int64))
    if profile.cell_key:
        raise ValueError(
            "Cell key perturbation needs record-level data with record keys; this recipe adds "
            "up figures the contributors have already counted. Choose the standard or strict "
            "profile."
        )
    if profile.secondary:
        # Organisational measures pass through unless the profile controls them too.
        controlled = pl.col("_people") | pl.lit(profile.control_organisational)
        passed = disclosure.protect(
            as_counts.filter(~controlled),
            replace(profile, secondary=False),
            count=VALUE,
            people="_people",
        )
        strict = _protect_strict(as_counts.filter(controlled), profile)
        return pl.concat(
            [
                part.select(COLUMNS).with_columns(pl.col(VALUE).cast(pl.Float64))
                for part in (passed, strict)
            ]
        )
    protected = disclosure.protect(as_counts, profile, count=VALUE, people="_people")
    return protected.with_columns(pl.col(VALUE).cast(pl.Float64))


def _protect_strict(counts: pl.DataFrame, profile: Profile) -> pl.DataFrame:
    """Strict: each measure's areas x periods table with its margins protected together. The
    margins across areas are the "everyone" level; other levels (regions) would be further
    margins the secondary suppression did not consider, so they are withheld."""
    areas = counts.filter(pl.col(LEVEL) == "area")
    if areas.is_empty():
        return counts.head(0).with_columns(
            pl.lit(None, pl.Float64).alias(VALUE),
            pl.lit("").alias(disclosure.STATUS),
            pl.lit("").alias(disclosure.SYMBOL),
            pl.lit("").alias(disclosure.EXPLANATION),
        )
    names = areas.select(CODE, NAME).unique(CODE)
    everyone = counts.filter(pl.col(LEVEL) != "area").select(LEVEL, NAME).unique().head(1)
    everyone_name = everyone[NAME][0] if everyone.height else "Everyone"
    with_margins = disclosure.add_margins(
        areas.select(PERIOD, CODE, MEASURE, VALUE, "_people"),
        rows=CODE,
        columns=PERIOD,
        count=VALUE,
        people="_people",
        layers=(MEASURE,),
    )
    protected = disclosure.protect(
        with_margins,
        profile,
        count=VALUE,
        people="_people",
        rows=CODE,
        columns=PERIOD,
        layers=(MEASURE,),
    )
    return (
        protected.filter(pl.col(PERIOD) != disclosure.TOTAL)
        .with_columns(
            pl.col(PERIOD).str.to_date(),
            pl.when(pl.col(CODE) == disclosure.TOTAL)
            .then(pl.lit("all"))
            .otherwise(pl.lit("area"))
            .alias(LEVEL),
            pl.col(CODE).replace(disclosure.TOTAL, ALL_CODE),
            pl.col(VALUE).cast(pl.Float64),
        )
        .join(names, on=CODE, how="left")
        .with_columns(pl.col(NAME).fill_null(everyone_name))
    )


def _protect_rates(rates: pl.DataFrame, profile: Profile) -> pl.DataFrame:
    masked = disclosure.mask_derived(rates, VALUE, "n", profile)
    people = pl.col("_people") | pl.lit(profile.control_organisational)
    small = pl.col(f"{VALUE}_symbol") != ""
    return masked.with_columns(
        pl.when(people).then(pl.col(VALUE)).otherwise(rates[VALUE]).round(1).alias(VALUE),
        pl.when(people & small)
        .then(pl.lit(disclosure.SUPPRESSED))
        .otherwise(pl.lit(disclosure.PUBLISHED))
        .alias(disclosure.STATUS),
        pl.when(rates[VALUE].is_null())
        .then(pl.lit(disclosure.NOT_AVAILABLE))
        .when(people & small)
        .then(pl.col(f"{VALUE}_symbol"))
        .otherwise(pl.lit(""))
        .alias(disclosure.SYMBOL),
        pl.when(rates[VALUE].is_null())
        .then(pl.lit("No figure: nothing to divide by."))
        .when(people & small)
        .then(pl.col(f"{VALUE}_explanation"))
        .when(people)
        .then(pl.lit(_RATE_SHOWN))
        .otherwise(pl.lit(_ORGANISATIONAL_RATE))
        .alias(disclosure.EXPLANATION),
    )


# --- the recipes --------------------------------------------------------------------------------


def _int(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Int64, strict=False).fill_null(0)


def _by_district(frame: pl.LazyFrame) -> pl.LazyFrame:
    return with_region(frame, "ltla_cd")


CARE_HOME_STATUS = Recipe(
    slug="care-home-status",
    title="Care home status by area and day",
    description=(
        "Homes reporting, homes in outbreak, homes with red PPE stock, staff absence and "
        "vacant beds for each local authority, region and all homes, every day; new Covid "
        "cases among residents and staff, and resident deaths, are counts of people and are "
        "disclosure-controlled."
    ),
    standard="care-home-daily-status",
    period_column="report_date",
    levels=(
        Level("area", "Local authority", "ltla_cd"),
        Level("upper", "County or unitary authority", "upper_cd"),
        Level("icb", "Integrated care board", "icb_cd"),
        Level("region", "Region", "region_cd"),
        Level("all", "All homes reporting"),
    ),
    measures=(
        Measure("homes_reporting", "Homes reporting", "count",
                pl.col("report_date").is_not_null(), people=False,
                unit="homes", higher_is_worse=False),
        Measure("homes_in_outbreak", "Homes in outbreak", "count",
                pl.col("outbreak_status").cast(pl.String).is_in(["suspected", "confirmed"]),
                people=False, unit="homes"),
        Measure("homes_red_ppe", "Homes with red PPE stock", "count",
                pl.col("ppe_rag").cast(pl.String) == "red", people=False, unit="homes"),
        Measure("staff_absence_rate_pct", "Staff absence rate", "rate", _int("staff_absent_total"),
                people=False, unit="%", denominator=_int("staff_headcount")),
        Measure("vacant_beds_total", "Vacant beds", "magnitude",
                _int("vacant_beds_residential") + _int("vacant_beds_nursing")
                + _int("vacant_beds_dementia"),
                people=False, unit="beds", higher_is_worse=False),
        Measure("residents_covid_positive_new_24h", "Residents newly testing positive", "count",
                _int("residents_covid_positive_new_24h"), people=True, unit="people"),
        Measure("staff_covid_positive_new_24h", "Staff newly testing positive", "count",
                _int("staff_covid_positive_new_24h"), people=True, unit="people"),
        Measure("residents_covid_deaths_7d", "Resident deaths with Covid (7 days)", "count",
                _int("residents_covid_deaths_7d"), people=True, unit="people"),
    ),
    derive=_by_district,
    contributor="cqc_location_id",
    headline=(
        "homes_reporting",
        "homes_in_outbreak",
        "homes_red_ppe",
        "staff_absence_rate_pct",
        "vacant_beds_total",
        "residents_covid_positive_new_24h",
    ),
)  # fmt: skip


def _vaccination_prepare(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Only the breakdown rows: an "all" age band or sex is a subtotal of rows also sent, and
    counting it too would count people twice. Rows the sender suppressed have no counts to add:
    they are left out of numerator and denominator alike, so uptake is not biased down."""
    detail = (
        (pl.col("age_band").cast(pl.String).str.to_lowercase() != "all")
        & (pl.col("sex").cast(pl.String).str.to_lowercase() != "all")
        & ~pl.col("suppressed").cast(pl.String).str.to_lowercase().is_in(["true", "1", "yes"])
    )
    return frame.filter(detail)


VACCINATION_UPTAKE = Recipe(
    slug="vaccination-uptake",
    title="Vaccination uptake by area",
    description=(
        "People in the vaccination register, and first-dose and booster uptake, for each "
        "neighbourhood (LSOA), local authority, region and England, compared with each other."
    ),
    standard="vaccination-uptake-lsoa",
    period_column="as_of_date",
    levels=(
        Level("lsoa", "Neighbourhood (LSOA)", "lsoa21cd"),
        Level("area", "Local authority", "ltla_cd"),
        Level("upper", "County or unitary authority", "upper_cd"),
        Level("region", "Region", "region_cd"),
        Level("all", "England (all areas reported)"),
    ),
    measures=(
        Measure("population", "People in the register", "count", _int("nims_population"),
                people=True, unit="people", higher_is_worse=False),
        Measure("booster_count", "People boosted", "count", _int("booster_count"),
                people=True, unit="people", higher_is_worse=False),
        Measure("dose1_uptake_pct", "First-dose uptake", "rate", _int("dose1_count"),
                people=True, unit="%", denominator=_int("nims_population"),
                higher_is_worse=False),
        Measure("booster_uptake_pct", "Booster uptake", "rate", _int("booster_count"),
                people=True, unit="%", denominator=_int("nims_population"),
                higher_is_worse=False),
    ),
    prepare=_vaccination_prepare,
    derive=_by_district,
    headline=("population", "booster_count", "dose1_uptake_pct", "booster_uptake_pct"),
)  # fmt: skip


RECIPES: Mapping[str, Recipe] = MappingProxyType(
    {recipe.slug: recipe for recipe in (CARE_HOME_STATUS, VACCINATION_UPTAKE)}
)


def recipe_for(slug: str) -> Recipe:
    try:
        return RECIPES[slug]
    except KeyError:
        names = ", ".join(RECIPES)
        raise KeyError(f"There is no output recipe '{slug}'. The recipes are: {names}.") from None


def make_output(
    recipe: Recipe, records: pl.DataFrame | pl.LazyFrame, profile: Profile
) -> pl.DataFrame:
    """The published table: ``compute`` then ``protect_table``; when the profile controls
    organisational measures, magnitudes (vacant beds) by their contributors' rules."""
    magnitudes = (
        protect_magnitudes(recipe, records, profile)
        if profile.control_organisational
        and recipe.contributor
        and any(m.kind == "magnitude" for m in recipe.measures)
        else None
    )
    return protect_table(recipe, compute(recipe, records), profile, magnitudes=magnitudes)


def protect_magnitudes(
    recipe: Recipe, records: pl.DataFrame | pl.LazyFrame, profile: Profile
) -> pl.DataFrame:
    """Every magnitude measure's cells (period, level, area) protected by the magnitude rules
    (``disclosure.protect_magnitude``: enough contributors, no dominant one, the p% rule),
    from each contributor's (each home's) own total in the cell."""
    magnitudes = [m for m in recipe.measures if m.kind == "magnitude"]
    per_contributor = _finest(
        recipe,
        records,
        [m.numerator.cast(pl.Float64).sum().alias(m.name) for m in magnitudes],
        by=[pl.col(recipe.contributor).cast(pl.String)],
    )
    parts = []
    for level in recipe.levels:
        code = pl.col(level.column).fill_null("") if level.column else pl.lit(ALL_CODE)
        at_level = per_contributor.with_columns(code.alias(CODE)).filter(pl.col(CODE) != "")
        for m in magnitudes:
            protected = disclosure.protect_magnitude(
                at_level.select(PERIOD, CODE, recipe.contributor, m.name),
                [PERIOD, CODE],
                m.name,
                recipe.contributor,
                profile,
            )
            parts.append(
                protected.rename({m.name: VALUE}).with_columns(
                    pl.lit(level.name).alias(LEVEL),
                    pl.lit(m.name).alias(MEASURE),
                    pl.col(VALUE).cast(pl.Float64),
                )
            )
    columns = [PERIOD, LEVEL, CODE, MEASURE, VALUE, *COLUMNS[-3:]]
    return pl.concat([part.select(columns) for part in parts], how="vertical_relaxed")
