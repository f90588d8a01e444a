"""Daily status returns from many synthetic care homes at once, vectorised.

``care_home_status`` (datasets) models three named homes in detail; a council that collects its
area's homes' returns and sends them on (as some did in the pandemic), or a benchmark of a year
from 10,000 homes, needs thousands of homes. ``many_care_homes`` makes them with Polars
expressions over (home, day): no per-row Python, the same figures for the same seed.

Each home has a size, a service type and, for about one in three, an outbreak that starts on a
hashed day and runs 12 days (suspected, then confirmed), then is declared over for four weeks.
New resident cases are 0-3 a day while it spreads, so small counts (which disclosure control
suppresses) are common. Every row meets the care home daily status standard
(care-home-daily-status 1.0): its columns in its order, figures that agree with each other.
Identifiers are synthetic (CQC ``1-998…``, ODS ``VZ9…``, UPRN ``998…``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from .datasets import KENT_AND_MEDWAY_ICB, upper_tier_of

SERVICE_TYPES = (
    "older_adults_residential",
    "older_adults_nursing",
    "younger_adults",
    "learning_disability",
    "mental_health",
)
# One postcode district per authority is enough for synthetic addresses; others get "ZZ99".
_POSTCODE_DISTRICT = {
    "E07000110": "ME15",  # Maidstone
    "E07000106": "CT2",  # Canterbury
    "E07000116": "TN2",  # Tunbridge Wells
    "E06000035": "ME4",  # Medway
}
OUTBREAK_DAYS = 12
DECLARED_OVER_DAYS = 28


def _h(n: pl.Expr, seed: int, modulo: int) -> pl.Expr:
    return (n.hash(seed) % modulo).cast(pl.Int64)


def many_care_homes(
    *,
    areas: Sequence[str],
    homes: int,
    days: int,
    today: date,
    seed: int = 7,
    first_home: int = 0,
    icb_cd: str = KENT_AND_MEDWAY_ICB,
) -> pl.DataFrame:
    """``homes`` homes spread over ``areas`` (LAD codes), one row each for each of the last
    ``days`` days up to ``today``. ``first_home`` numbers the homes, so two calls with
    different ranges never share an identifier."""
    if not areas:
        raise ValueError("Give at least one area for the care homes.")
    home_ids = pl.int_range(first_home, first_home + homes, dtype=pl.Int64, eager=True)
    area_series = pl.Series(list(areas), dtype=pl.String)
    home_table = pl.DataFrame({"home": home_ids}).with_columns(
        ltla_cd=area_series.gather((home_ids % len(areas)).to_list()),
        registered_beds=20 + _h(pl.col("home"), seed, 60),
        service_type=pl.lit(pl.Series(SERVICE_TYPES)).gather(
            _h(pl.col("home"), seed + 1, len(SERVICE_TYPES))
        ),
        # About a third have had an outbreak in the window: its first day, counted in days ago.
        outbreak_ago=pl.when(_h(pl.col("home"), seed + 2, 3) == 0)
        .then(_h(pl.col("home"), seed + 3, max(days, 1) + DECLARED_OVER_DAYS))
        .otherwise(None),
    )
    uppers = {code: upper_tier_of(code) for code in areas}
    day_table = pl.DataFrame({"ago": pl.int_range(days - 1, -1, -1, dtype=pl.Int64, eager=True)})
    frame = home_table.join(day_table, how="cross")
    i = pl.col("home") * 100_003 + pl.col("ago")  # one key per home and day
    k = pl.col("outbreak_ago") - pl.col("ago")  # day of the outbreak; null when none
    status = (
        pl.when(k.is_null() | (k < 0))
        .then(pl.lit("none"))
        .when(k == 0)
        .then(pl.lit("suspected"))
        .when(k < OUTBREAK_DAYS)
        .then(pl.lit("confirmed"))
        .when(k < OUTBREAK_DAYS + DECLARED_OVER_DAYS)
        .then(pl.lit("declared_over"))
        .otherwise(pl.lit("none"))
    )
    spreading = k.is_not_null() & (k >= 0) & (k < OUTBREAK_DAYS - 4)
    confirmed = k.is_not_null() & (k >= 1) & (k < OUTBREAK_DAYS)
    zero = pl.lit(0, dtype=pl.Int64)
    registered = pl.col("registered_beds")
    empty = _h(i, seed + 4, 6)
    closed = confirmed
    vacant = pl.when(closed).then(zero).otherwise(empty)
    nursing_home = pl.col("service_type") == "older_adults_nursing"
    nursing = pl.when(nursing_home).then(vacant // 2).otherwise(zero)
    older = pl.col("service_type").str.starts_with("older_adults")
    dementia = pl.when(older).then(pl.min_horizontal(vacant - nursing, _h(i, seed + 5, 2)))
    headcount = registered + 10 + _h(pl.col("home"), seed + 6, 20)
    staff_new = pl.when(spreading).then(_h(i, seed + 7, 2)).otherwise(zero)
    staff_absent_covid = pl.min_horizontal(staff_new * 3, headcount)
    gloves = 4 + _h(i, seed + 8, 20)
    aprons = 4 + _h(i, seed + 9, 20)
    masks = 3 + _h(i, seed + 10, 20)
    fewest = pl.min_horizontal(gloves, aprons, masks)
    postcode_district = pl.col("ltla_cd").replace_strict(_POSTCODE_DISTRICT, default="ZZ99")
    number = pl.col("home").cast(pl.String).str.zfill(6)
    result = frame.select(
        report_date=pl.lit(today) - pl.duration(days=pl.col("ago")),
        cqc_location_id=pl.lit("1-998") + number,
        cqc_provider_id=pl.lit("1-997") + (pl.col("home") // 4).cast(pl.String).str.zfill(6),
        ods_code=pl.lit("VZ9") + (pl.col("home") % 100).cast(pl.String).str.zfill(2),
        care_home_name=pl.lit("Synthetic care home ") + number,
        postcode=postcode_district
        + pl.lit(" ")
        + (1 + _h(pl.col("home"), seed + 11, 9)).cast(pl.String)
        + pl.lit("AA"),
        uprn=pl.lit("998") + pl.col("home").cast(pl.String).str.zfill(9),
        ltla_cd=pl.col("ltla_cd"),
        utla_cd=pl.col("ltla_cd").replace_strict(uppers),
        icb_cd=pl.lit(icb_cd),
        combined_authority_cd=pl.lit(None, dtype=pl.String),
        service_type=pl.col("service_type"),
        registered_beds=registered,
        occupied_beds=registered - empty,
        vacant_beds_residential=vacant - nursing,
        vacant_beds_nursing=nursing,
        vacant_beds_dementia=dementia.fill_null(0),
        admissions_status=pl.when(closed)
        .then(pl.lit("closed"))
        .when(k == 0)
        .then(pl.lit("restricted"))
        .otherwise(pl.lit("open")),
        residents_covid_positive_new_24h=pl.when(spreading)
        .then(_h(i, seed + 12, 4))
        .otherwise(zero),
        staff_covid_positive_new_24h=staff_new,
        residents_covid_deaths_7d=pl.when(spreading & (_h(i, seed + 13, 10) == 0))
        .then(pl.lit(1, dtype=pl.Int64))
        .otherwise(zero),
        outbreak_status=status,
        outbreak_start_date=pl.when(status != "none").then(
            pl.lit(today) - pl.duration(days=pl.col("outbreak_ago"))
        ),
        ppe_days_gloves=gloves,
        ppe_days_aprons=aprons,
        ppe_days_iir_masks=masks,
        ppe_rag=pl.when(fewest < 7)
        .then(pl.lit("red"))
        .when(fewest <= 14)
        .then(pl.lit("amber"))
        .otherwise(pl.lit("green")),
        staff_headcount=headcount,
        staff_absent_total=staff_absent_covid + _h(i, seed + 14, 5),
        staff_absent_covid=staff_absent_covid,
        agency_shifts_7d=_h(i, seed + 15, 10) + 2 * staff_absent_covid,
        visiting_status=pl.when(status.is_in(["suspected", "confirmed"]))
        .then(pl.lit("restricted"))
        .otherwise(pl.lit("open")),
        residents_booster_pct=(70 + _h(pl.col("home"), seed + 16, 30)).cast(pl.Float64),
        staff_booster_pct=(40 + _h(pl.col("home"), seed + 17, 50)).cast(pl.Float64),
        ipc_training_completed=_h(pl.col("home"), seed + 18, 5) != 0,
    )
    return result.with_columns(pl.col("report_date").cast(pl.Date))
