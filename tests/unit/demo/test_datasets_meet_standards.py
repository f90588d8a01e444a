"""The demo's datasets that follow a bundled standard meet it exactly: written out as CSV, the
validation engine finds no problem at all, and the columns are the standard's, in its order.
Their figures also agree with each other, as a real home's or UKHSA's would."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from django.utils import timezone

from accord.demo import datasets
from accord.demo.datasets import (
    CARE_HOMES,
    KENT_AND_MEDWAY_ICB,
    DemoDataset,
    care_home_status,
    covid_tests_pilot,
    covid_tests_weekly,
    demo_datasets,
    housing_benefit_claims,
    lsoas_in,
)
from accord.demo.loader import ORGANISATIONS, demo_actor
from accord.organisations.actions import create_organisation
from accord.organisations.enums import Sector
from accord.organisations.models import Organisation
from accord.standards import codelists
from accord.standards.queries import get_standard
from accord.standards.schema import Standard
from accord.submissions.engine import ValidationReport, validate_file

CARE_HOME_SPECS = [o for o in ORGANISATIONS if o.sector == Sector.CARE_PROVIDER]
# Postcode districts (outward codes) in each home's local authority.
POSTCODE_DISTRICTS = {
    "E07000110": {"ME14", "ME15", "ME16", "ME17"},  # Maidstone
    "E07000106": {"CT1", "CT2", "CT3", "CT4", "CT6"},  # Canterbury
    "E07000116": {"TN1", "TN2", "TN3", "TN4", "TN12", "TN17", "TN18"},  # Tunbridge Wells
    "E06000035": {"ME1", "ME2", "ME3", "ME4", "ME5", "ME7", "ME8"},  # Medway
}


def _standard_shaped() -> list[DemoDataset]:
    return [d for d in demo_datasets() if d.standard]


@pytest.fixture
def care_homes(db) -> dict[str, Organisation]:
    """The demo's care homes, as load_demo creates them (the makers look them up by name)."""
    return {
        spec.key: create_organisation(
            by=demo_actor(),
            name=spec.name,
            sector=spec.sector,
            ico_registration=spec.ico_registration,
            is_demo=True,
        )
        for spec in CARE_HOME_SPECS
    }


def _validate(frame: pl.DataFrame, standard: Standard, tmp_path: Path) -> ValidationReport:
    path = tmp_path / f"{standard.slug}.csv"
    frame.write_csv(path)
    return validate_file(path, standard)


def _assert_meets(frame: pl.DataFrame, standard: Standard, tmp_path: Path) -> None:
    assert frame.columns == [f.name for f in standard.fields]
    report = _validate(frame, standard, tmp_path)
    messages = "\n".join(report.problems["message"].to_list())
    assert report.is_valid, messages
    assert report.problems.is_empty(), messages
    assert report.rows == frame.height
    assert all(c.column == c.field for c in report.columns)  # every column found, by its name


def test_the_datasets_that_follow_a_standard_are_the_care_homes_and_the_pilot() -> None:
    shaped = {(d.organisation_key, d.name): d.standard for d in demo_datasets() if d.standard}
    assert shaped == {
        ("oakleigh", "Care home daily status, last 28 days"): "care-home-daily-status",
        ("kingfisher", "Care home daily status, last 28 days"): "care-home-daily-status",
        ("riverside", "Care home daily status, last 28 days"): "care-home-daily-status",
        ("kent", "Covid tests by LSOA, weekly (pilot)"): "covid-tests-lsoa-weekly",
    }
    # The risk index is derived from the single view's sources, not a file anyone sends.
    (risk,) = [d for d in demo_datasets() if d.name == "Household risk index"]
    assert risk.standard == ""


@pytest.mark.parametrize(
    "dataset", _standard_shaped(), ids=lambda d: f"{d.organisation_key}-{d.standard}"
)
def test_each_dataset_meets_its_standard_with_no_problem(
    dataset: DemoDataset, care_homes, tmp_path: Path
) -> None:
    frame = dataset.make()
    _assert_meets(frame, get_standard(dataset.standard, "1.0"), tmp_path)
    assert frame.equals(dataset.make())  # the same figures every time


@pytest.mark.parametrize("days", [1, 7, 28, 90])
@pytest.mark.parametrize("outbreak_days_ago", [None, 0, 3, 25, 200])
def test_a_care_home_meets_the_standard_for_any_window_and_outbreak(
    days: int, outbreak_days_ago: int | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = Organisation(name=CARE_HOME_SPECS[0].name)
    spec = dataclasses.replace(CARE_HOMES[home.name], outbreak_days_ago=outbreak_days_ago)
    monkeypatch.setitem(datasets.CARE_HOMES, home.name, spec)
    frame = care_home_status(home, seed=11, days=days)
    assert frame.height == days
    _assert_meets(frame, get_standard("care-home-daily-status", "1.0", database=False), tmp_path)


def test_each_demo_care_home_has_its_own_registration_in_its_real_area() -> None:
    assert sorted(CARE_HOMES) == sorted(o.name for o in CARE_HOME_SPECS)
    lad25, icb = codelists.load("lad25"), codelists.load("icb")
    for organisation in CARE_HOME_SPECS:
        home = CARE_HOMES[organisation.name]
        assert home.ltla_cd == organisation.area_code
        assert home.ltla_cd in lad25.codes
        assert home.icb_cd in icb.codes
        assert home.icb_cd == KENT_AND_MEDWAY_ICB
        assert home.postcode.split()[0] in POSTCODE_DISTRICTS[home.ltla_cd]
        assert 9 <= len(home.cqc_location_id.removeprefix("1-")) <= 10
        assert len(home.uprn) == 12
    for attribute in ("cqc_location_id", "ods_code", "postcode", "uprn"):
        values = [getattr(home, attribute) for home in CARE_HOMES.values()]
        assert len(set(values)) == len(values), attribute


def test_a_care_home_return_hangs_together(care_homes) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    for key in care_homes:
        (dataset,) = [d for d in demo_datasets() if d.organisation_key == key]
        frame = dataset.make()
        assert frame.height == 28
        assert frame["report_date"].to_list() == [
            yesterday - timedelta(days=27 - n) for n in range(28)
        ]
        assert frame["cqc_location_id"].n_unique() == 1
        assert frame["utla_cd"].unique().to_list() == [
            "E06000035" if key == "riverside" else "E10000016"
        ]
        assert frame["combined_authority_cd"].is_null().all()
        broken = frame.filter(
            (pl.col("occupied_beds") > pl.col("registered_beds"))
            | (
                pl.col("vacant_beds_residential") + pl.col("vacant_beds_nursing")
                > pl.col("registered_beds") - pl.col("occupied_beds")
            )
            | (
                pl.col("vacant_beds_dementia")
                > pl.col("vacant_beds_residential") + pl.col("vacant_beds_nursing")
            )
            | (
                (pl.col("admissions_status") == "closed")
                & (pl.col("vacant_beds_residential") + pl.col("vacant_beds_nursing") > 0)
            )
            | (pl.col("staff_absent_covid") > pl.col("staff_absent_total"))
            | (pl.col("staff_absent_total") > pl.col("staff_headcount"))
            | (
                pl.col("outbreak_status").is_in(["none", "declared_over"])
                & (
                    pl.col("residents_covid_positive_new_24h")
                    + pl.col("staff_covid_positive_new_24h")
                    > 0
                )
            )
            | (
                (pl.col("outbreak_status") == "suspected")
                & (pl.col("residents_covid_positive_new_24h") == 0)
            )
            | (
                pl.col("outbreak_status").is_in(["suspected", "confirmed"])
                & (pl.col("visiting_status") == "open")
            )
            | (pl.col("outbreak_start_date") > pl.col("report_date"))
            | ((pl.col("outbreak_status") != "none") & pl.col("outbreak_start_date").is_null())
            | (
                pl.col("ppe_rag")
                != pl.when(
                    pl.min_horizontal("ppe_days_gloves", "ppe_days_aprons", "ppe_days_iir_masks")
                    < 7
                )
                .then(pl.lit("red"))
                .when(
                    pl.min_horizontal("ppe_days_gloves", "ppe_days_aprons", "ppe_days_iir_masks")
                    <= 14
                )
                .then(pl.lit("amber"))
                .otherwise(pl.lit("green"))
            )
        )
        assert broken.is_empty(), broken
        if frame["vacant_beds_nursing"].sum() > 0:
            assert frame["service_type"][0] == "older_adults_nursing"
    # Oakleigh House's outbreak ran its course in the window; Kingfisher Court's goes on.
    oakleigh = care_homes["oakleigh"]
    statuses = care_home_status(oakleigh, seed=11)["outbreak_status"].unique(maintain_order=True)
    assert statuses.to_list() == ["none", "suspected", "confirmed", "declared_over"]
    kingfisher = care_home_status(care_homes["kingfisher"], seed=12)
    assert kingfisher["outbreak_status"][-1] == "confirmed"
    assert kingfisher["admissions_status"][-1] == "closed"


def test_the_pilot_suppresses_small_counts_and_its_rates_agree() -> None:
    frame = covid_tests_pilot()
    assert frame.select("week_ending", "lsoa21cd", "age_band", "source").is_unique().all()
    assert (frame["week_ending"].dt.weekday() == 7).all()  # weeks end on a Sunday
    assert (frame["data_as_of"].dt.date() > frame["week_ending"]).all()
    suppressed = frame.filter("suppressed")
    assert 0 < suppressed.height < frame.height
    assert (
        suppressed.select("positive_cases", "positivity_pct", "case_rate_per_100k")
        .null_count()
        .row(0)
        == (suppressed.height,) * 3
    )
    shown = frame.filter(~pl.col("suppressed"))
    assert (shown["positive_cases"] >= 5).all()
    assert (shown["positive_cases"] <= shown["pcr_tests"]).all()
    assert shown["positivity_pct"].equals(
        (100 * shown["positive_cases"] / shown["pcr_tests"]).round(1)
    )
    assert shown["case_rate_per_100k"].equals(
        (100_000 * shown["positive_cases"] / shown["population_denominator"]).round(1)
    )
    assert (frame.select("pcr_tests", "lfd_tests").min_horizontal() >= 5).all()


# Housing benefit claims and UKHSA's weekly releases --------------------------------------------


@pytest.mark.parametrize("rows", [1, 50, 1200])
def test_housing_benefit_claims_meet_the_standard(db, rows: int, tmp_path: Path) -> None:
    frame = housing_benefit_claims(date(2026, 3, 1), rows=rows)
    assert frame.height == rows
    _assert_meets(frame, get_standard("housing-benefit-claims", "1.0"), tmp_path)
    assert frame.equals(housing_benefit_claims(date(2026, 3, 1), rows=rows))


def test_housing_benefit_claims_hang_together() -> None:
    extract = date(2026, 3, 1)
    frame = housing_benefit_claims(extract)
    for column in ("hb_claim_ref", "person_id", "nino"):
        assert frame[column].is_unique().all(), column
    assert set(frame["ltla_cd"].unique()) == {"E07000110", "E07000106", "E07000116"}
    outward = frame["postcode"].str.split(" ").list.first()
    for district, outwards in POSTCODE_DISTRICTS.items():
        assert set(outward.filter(frame["ltla_cd"] == district)) <= outwards
    assert (frame["extract_date"] == extract).all()
    broken = frame.filter(
        (pl.col("claim_start_date") > pl.col("extract_date"))
        | (pl.col("claim_start_date") < pl.col("date_of_birth").dt.offset_by("18y"))
        | (pl.col("hb_in_payment") & (pl.col("claim_status") != "live"))
        | (pl.col("hb_in_payment") & (pl.col("tenure") == "owner"))
        | (pl.col("hb_in_payment") != (pl.col("hb_weekly_award_band") != "none"))
        | (pl.col("dhp_award_12m") & ~pl.col("hb_in_payment"))
        | (pl.col("children_in_household_count") >= pl.col("household_size"))
    )
    assert broken.is_empty(), broken
    assert 0.8 < frame["claim_status"].eq("live").mean() < 0.95  # type: ignore[operator]


def test_a_later_extract_describes_the_same_claims() -> None:
    first = housing_benefit_claims(date(2026, 2, 1), rows=100)
    later = housing_benefit_claims(
        date(2026, 3, 1), first=10, rows=100, established=100, since=date(2026, 2, 1)
    )
    stable = [c for c in first.columns if c not in {"claim_status", "extract_date"}]
    paid = ("hb_", "ctr_", "dhp_", "uc_")  # follow the status
    stable = [c for c in stable if not c.startswith(paid)] + ["hb_claim_ref"]
    same = first.slice(10).select(stable)
    assert same.equals(later.head(90).select(stable))
    new = later.tail(10)
    assert (new["claim_start_date"] > date(2026, 2, 1)).all()


def test_ukhsas_weekly_file_covers_every_councils_lsoas_and_meets_the_standard(
    db, tmp_path: Path
) -> None:
    districts = ("E07000110", "E07000106", "E07000116", "E06000035", "E09000012", "E09000019")
    ended = date(2026, 11, 15)  # a Sunday
    frame = covid_tests_weekly(districts, ended=ended)
    _assert_meets(frame, get_standard("covid-tests-lsoa-weekly", "1.0"), tmp_path)
    assert frame.height == 2 * sum(len(lsoas_in(d)) for d in districts)
    assert (frame["week_ending"] == ended).all()
    upper = dict(frame.select("ltla_cd", "utla_cd").unique().iter_rows())
    assert upper == {
        "E07000110": "E10000016",
        "E07000106": "E10000016",
        "E07000116": "E10000016",
        "E06000035": "E06000035",
        "E09000012": "E09000012",
        "E09000019": "E09000019",
    }
    regions = dict(frame.select("ltla_cd", "region_cd").unique().iter_rows())
    assert {regions[d] for d in districts[:4]} == {"E12000008"}  # South East
    assert {regions[d] for d in districts[4:]} == {"E12000007"}  # London
