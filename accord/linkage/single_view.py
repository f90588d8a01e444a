"""The single view of vulnerability: one row per household (UPRN) with the risk factors each
source shows, made from a person linkage over the council's and its partners' datasets.

Use case 4.4 of the reference: council tax, housing benefit, adult social care, the shielded
patient list and free school meals, linked on the person (NHS number, then names, date of birth,
address and postcode), each person placed at the UPRN its records agree on, and their flags
gathered per household. Minimisation as SAVVI does it: flags, not case notes; no names, no
dates of birth, no NHS numbers leave in the view.

Every step is a Polars expression over whole columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from .engine import normalise_uprn

RECIPE = "single-view"
NAME = "Single view of vulnerability"
# The datasets it is made from, in the order the view's columns follow.
STANDARDS = (
    "council-tax-accounts",
    "housing-benefit-claims",
    "adult-social-care-services",
    "shielded-patient-list",
    "fsm-eligibility",
)
SYSTEM_NAMES: Mapping[str, str] = {
    "council-tax-accounts": "Council tax",
    "housing-benefit-claims": "Housing benefit",
    "adult-social-care-services": "Adult social care",
    "shielded-patient-list": "Shielded patient list",
    "fsm-eligibility": "Free school meals",
}

_ARREARS = ["none", "under_250", "250_to_1000", "over_1000"]
_ENFORCEMENT = ["none", "reminder", "summons", "liability_order", "enforcement_agent"]
_AWARD = ["none", "under_50", "50_to_100", "100_to_200", "over_200"]


@dataclass(frozen=True)
class RiskFactor:
    code: str
    label: str
    weight: int  # points towards the 0-100 score


RISK_FACTORS = (
    RiskFactor("clinically_vulnerable", "On the shielded patient list", 25),
    RiskFactor("care_and_support", "Receiving adult social care", 20),
    RiskFactor("debt", "Council tax arrears over £250 or enforcement", 20),
    RiskFactor("housing_insecurity", "Temporary accommodation or a discretionary payment", 20),
    RiskFactor("low_income", "On housing benefit, council tax reduction or Universal Credit", 15),
    RiskFactor("child_poverty", "A child eligible for free school meals", 15),
    RiskFactor("lives_alone", "Single person discount: may live alone", 10),
)
CATEGORIES = ((70, "critical"), (45, "high"), (20, "medium"), (0, "low"))


def _ordinal(column: str, order: list[str]) -> pl.Expr:
    return pl.col(column).replace_strict(order, list(range(len(order))), default=None)


def _from_ordinal(expr: pl.Expr, order: list[str]) -> pl.Expr:
    return expr.replace_strict(list(range(len(order))), order, default=None)


def _has(frame: pl.DataFrame, *columns: str) -> bool:
    return all(column in frame.columns for column in columns)


def _flags(standard: str, frame: pl.DataFrame) -> list[pl.Expr]:
    """Per-household aggregations of one source's records (only of fields it has)."""
    flags: list[pl.Expr] = []
    if standard == "council-tax-accounts":
        if _has(frame, "ct_band"):
            flags.append(pl.col("ct_band").drop_nulls().first().alias("ct_band"))
        for column in ("ct_single_person_discount", "ct_reduction_in_payment"):
            if _has(frame, column):
                flags.append(pl.col(column).fill_null(False).any().alias(column))
        if _has(frame, "ct_arrears_band"):
            worst = _ordinal("ct_arrears_band", _ARREARS).max()
            flags.append(_from_ordinal(worst, _ARREARS).alias("ct_arrears_band"))
        if _has(frame, "ct_enforcement_stage"):
            worst = _ordinal("ct_enforcement_stage", _ENFORCEMENT).max()
            flags.append(_from_ordinal(worst, _ENFORCEMENT).alias("ct_enforcement_stage"))
    elif standard == "housing-benefit-claims":
        live = pl.col("claim_status") == "live" if _has(frame, "claim_status") else pl.lit(True)
        for column in ("hb_in_payment", "ctr_in_payment", "uc_housing_element_flag"):
            if _has(frame, column):
                flags.append((pl.col(column).fill_null(False) & live).any().alias(column))
        if _has(frame, "dhp_award_12m"):
            flags.append(pl.col("dhp_award_12m").fill_null(False).any().alias("dhp_award_12m"))
        if _has(frame, "hb_weekly_award_band"):
            top = _ordinal("hb_weekly_award_band", _AWARD).max()
            flags.append(_from_ordinal(top, _AWARD).alias("hb_weekly_award_band"))
        if _has(frame, "tenure"):
            flags.append(pl.col("tenure").drop_nulls().first().alias("tenure"))
        for column in ("household_size", "children_in_household_count"):
            if _has(frame, column):
                flags.append(pl.col(column).max().alias(column))
    elif standard == "adult-social-care-services":
        open_service = (
            pl.col("service_status") == "open" if _has(frame, "service_status") else pl.lit(True)
        )
        flags.append(open_service.any().alias("asc_open_service"))
        if _has(frame, "primary_support_reason"):
            reason = pl.col("primary_support_reason").filter(open_service).drop_nulls().first()
            flags.append(reason.alias("asc_primary_support_reason"))
        if _has(frame, "carer_in_household"):
            flags.append(
                pl.col("carer_in_household").fill_null(False).any().alias("carer_in_household")
            )
    elif standard == "shielded-patient-list":
        active = pl.col("spl_status") == "active" if _has(frame, "spl_status") else pl.lit(True)
        flags.append(active.any().alias("shielded_in_household"))
    elif standard == "fsm-eligibility":
        eligible = pl.col("ecs_result") == "eligible" if _has(frame, "ecs_result") else pl.lit(True)
        flags.append(eligible.any().alias("fsm_in_household"))
    return flags


FLAG_COLUMNS = (
    "ct_band",
    "ct_single_person_discount",
    "ct_reduction_in_payment",
    "ct_arrears_band",
    "ct_enforcement_stage",
    "hb_in_payment",
    "ctr_in_payment",
    "uc_housing_element_flag",
    "dhp_award_12m",
    "hb_weekly_award_band",
    "tenure",
    "household_size",
    "children_in_household_count",
    "asc_open_service",
    "asc_primary_support_reason",
    "carer_in_household",
    "shielded_in_household",
    "fsm_in_household",
)


def entity_uprns(records: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Each entity's household: the valid UPRN most of its records give (the smallest of a
    tie), so a mistyped UPRN in one source is outvoted by the others."""
    given = [
        frame.select("entity_id", normalise_uprn(pl.col("uprn").cast(pl.String)).alias("uprn"))
        for frame in records.values()
        if _has(frame, "entity_id", "uprn")
    ]
    if not given:
        return pl.DataFrame(schema={"entity_id": pl.String, "uprn": pl.String})
    votes = pl.concat(given).drop_nulls("uprn").group_by("entity_id", "uprn").len()
    return (
        votes.sort(["entity_id", "len", "uprn"], descending=[False, True, False])
        .group_by("entity_id", maintain_order=True)
        .first()
        .select("entity_id", "uprn")
    )


def households(records: Mapping[str, pl.DataFrame], *, refreshed: date) -> pl.DataFrame:
    """One row per UPRN: the flags of every source, the risk factors, score and category, and
    which systems know the household. ``records`` maps a standard to its linked records
    (``entity_id`` and the fields the agreements let through)."""
    homes = entity_uprns(records)
    systems: list[pl.DataFrame] = []
    view = homes.select("uprn").unique()
    for standard in STANDARDS:
        frame = records.get(standard)
        if frame is None or frame.is_empty():
            continue
        placed = frame.drop("uprn", strict=False).join(homes, on="entity_id", how="inner")
        flags = _flags(standard, frame)
        people = pl.col("entity_id").n_unique().alias(f"people_{standard.replace('-', '_')}")
        gathered = placed.group_by("uprn").agg(*flags, people)
        systems.append(gathered.select("uprn", pl.lit(SYSTEM_NAMES[standard]).alias("system")))
        view = view.join(gathered.drop(people.meta.output_name()), on="uprn", how="left")
    view = view.with_columns(
        [pl.lit(None, dtype=_flag_dtype(c)).alias(c) for c in FLAG_COLUMNS if c not in view.columns]
    )
    factors = _factors()
    score = pl.min_horizontal(
        pl.sum_horizontal([expr.cast(pl.Int64) * f.weight for f, expr in factors]),
        pl.lit(100),
    )
    category = pl.lit("low")
    for floor, name in reversed(CATEGORIES[:-1]):
        category = pl.when(score >= floor).then(pl.lit(name)).otherwise(category)
    codes = pl.concat_list(
        [pl.when(expr).then(pl.lit(f.code)).otherwise(None) for f, expr in factors]
    ).list.drop_nulls()
    managed = pl.concat_list(
        [
            pl.when(pl.col("asc_open_service").fill_null(False)).then(pl.lit("ASC")),
            pl.when(pl.col("shielded_in_household").fill_null(False)).then(pl.lit("SPL")),
        ]
    ).list.drop_nulls()
    source_systems = (
        pl.concat(systems).group_by("uprn").agg(pl.col("system").unique().sort())
        if systems
        else pl.DataFrame(schema={"uprn": pl.String, "system": pl.List(pl.String)})
    )
    return (
        view.join(source_systems, on="uprn", how="left")
        .with_columns(
            savvi_risk_factors=codes,
            risk_score=score,
            already_managed_by=managed.list.join("; "),
            source_systems=pl.col("system").list.join("; "),
            last_refreshed=pl.lit(refreshed),
        )
        .with_columns(risk_category=category)
        .with_columns(savvi_risk_factors=pl.col("savvi_risk_factors").list.join("; "))
        .drop("system")
        .sort(["risk_score", "uprn"], descending=[True, False])
        .select(
            "uprn",
            *FLAG_COLUMNS,
            "savvi_risk_factors",
            "risk_score",
            "risk_category",
            "already_managed_by",
            "source_systems",
            "last_refreshed",
        )
    )


def _flag_dtype(column: str) -> pl.DataType:
    if column in ("household_size", "children_in_household_count"):
        return pl.Int64()
    if column in (
        "ct_band",
        "ct_arrears_band",
        "ct_enforcement_stage",
        "hb_weekly_award_band",
        "tenure",
        "asc_primary_support_reason",
    ):
        return pl.String()
    return pl.Boolean()


def _factors() -> list[tuple[RiskFactor, pl.Expr]]:
    def yes(column: str) -> pl.Expr:
        return pl.col(column).fill_null(False)

    arrears = _ordinal("ct_arrears_band", _ARREARS).fill_null(0) >= 2
    enforcement = _ordinal("ct_enforcement_stage", _ENFORCEMENT).fill_null(0) >= 2
    by_code = {
        "clinically_vulnerable": yes("shielded_in_household"),
        "care_and_support": yes("asc_open_service"),
        "debt": arrears | enforcement,
        "housing_insecurity": (pl.col("tenure") == "temporary_accommodation").fill_null(False)
        | yes("dhp_award_12m"),
        "low_income": yes("hb_in_payment")
        | yes("ctr_in_payment")
        | yes("ct_reduction_in_payment")
        | yes("uc_housing_element_flag"),
        "child_poverty": yes("fsm_in_household"),
        "lives_alone": yes("ct_single_person_discount"),
    }
    return [(factor, by_code[factor.code]) for factor in RISK_FACTORS]
