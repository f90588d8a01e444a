"""The single view of vulnerability's roll-up: people placed at the UPRN their records agree
on, each source's flags gathered per household, risk factors, score and category."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from accord.linkage import single_view

DAY = dt.date(2026, 11, 1)


def _records() -> dict[str, pl.DataFrame]:
    return {
        "council-tax-accounts": pl.DataFrame(
            {
                "entity_id": ["e1", "e2", "e3"],
                "uprn": ["100000000001", "100000000002", "100000000003"],
                "ct_band": ["B", "C", "A"],
                "ct_single_person_discount": [True, False, None],
                "ct_reduction_in_payment": [False, True, False],
                "ct_arrears_band": ["none", "over_1000", "under_250"],
                "ct_enforcement_stage": ["none", "liability_order", "reminder"],
            }
        ),
        "adult-social-care-services": pl.DataFrame(
            {
                # e1's care record gives a mistyped UPRN; the other two sources outvote it.
                "entity_id": ["e1", "e4"],
                "uprn": ["100000000999", "100000000004"],
                "service_status": ["open", "closed"],
                "primary_support_reason": ["physical", "mental_health"],
                "carer_in_household": [True, False],
            }
        ),
        "shielded-patient-list": pl.DataFrame(
            {
                "entity_id": ["e1"],
                "uprn": ["100000000001"],
                "spl_status": ["active"],
            }
        ),
    }


def test_one_row_per_household_with_each_sources_flags() -> None:
    view = single_view.households(_records(), refreshed=DAY)
    assert view.height == 4
    assert view["uprn"].is_unique().all()
    first = view.filter(pl.col("uprn") == "100000000001").row(0, named=True)
    assert first["ct_band"] == "B"
    assert first["asc_open_service"] is True
    assert first["asc_primary_support_reason"] == "physical"
    assert first["shielded_in_household"] is True
    assert first["already_managed_by"] == "ASC; SPL"
    assert first["source_systems"] == "Adult social care; Council tax; Shielded patient list"
    # 25 shielded + 20 care + 10 lives alone
    assert first["risk_score"] == 55
    assert first["risk_category"] == "high"
    assert set(first["savvi_risk_factors"].split("; ")) == {
        "clinically_vulnerable",
        "care_and_support",
        "lives_alone",
    }
    assert first["last_refreshed"] == DAY


def test_the_mistyped_uprn_is_outvoted() -> None:
    view = single_view.households(_records(), refreshed=DAY)
    assert "100000000999" not in view["uprn"].to_list()


def test_debt_and_low_income_from_council_tax() -> None:
    row = (
        single_view.households(_records(), refreshed=DAY)
        .filter(pl.col("uprn") == "100000000002")
        .row(0, named=True)
    )
    assert row["ct_arrears_band"] == "over_1000"
    assert row["risk_score"] == 35  # debt 20 + low income 15
    assert row["risk_category"] == "medium"
    assert row["shielded_in_household"] is None  # not known to that source: not "no"


def test_a_closed_service_is_not_care_and_support() -> None:
    row = (
        single_view.households(_records(), refreshed=DAY)
        .filter(pl.col("uprn") == "100000000004")
        .row(0, named=True)
    )
    assert row["asc_open_service"] is False
    assert row["risk_score"] == 0
    assert row["risk_category"] == "low"


def test_only_flags_leave_never_identifiers() -> None:
    records = _records()
    records["shielded-patient-list"] = records["shielded-patient-list"].with_columns(
        nhs_number=pl.lit("9990000018"), family_name=pl.lit("Archer")
    )
    view = single_view.households(records, refreshed=DAY)
    assert not {"nhs_number", "family_name", "date_of_birth"} & set(view.columns)


@pytest.mark.parametrize(
    ("score", "category"), [(0, "low"), (20, "medium"), (45, "high"), (70, "critical")]
)
def test_categories_start_at_their_floors(score: int, category: str) -> None:
    assert dict((floor, name) for floor, name in single_view.CATEGORIES)[score] == category


def test_no_sources_no_households() -> None:
    assert single_view.households({}, refreshed=DAY).height == 0
