"""The demo's datasets, stored encrypted in the vault like any other data.

Three synthetic datasets, made with Polars expressions from hashes of the row number (no
per-row Python, and the same figures every time):

- daily status returns from each of the three synthetic care homes (use case 4.5), kept for
  the standard default of two years;
- Maidstone's household risk index (use case 4.4), one row per synthetic UPRN, kept a year;
- Maidstone Borough Council holds a copy of Oakleigh House's returns outside Accord, due for
  deletion in ten days, so its DPO is reminded and can attest deletion;
- Kent County Council's weekly Covid test counts by LSOA from a pilot (use case 4.1), moved
  into Accord from the council's old shared drive: it was first received 400 days ago and kept
  for one year under the pilot's arrangement, so its deadline has passed. The retention task
  deletes it — at once under ``accord serve``, or with ``accord retention run`` — and its
  deletion certificate appears for Kent's governance roles.

UPRNs are random 12-digit numbers flagged synthetic; LSOA and area codes are real and public.
``store_demo_datasets`` is idempotent: a dataset stored before, even one since deleted, is not
stored again, so a deletion stays a deletion on the next ``make demo``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl
from django.utils import timezone

from accord.access.enums import ResourceKind
from accord.organisations.models import Organisation
from accord.vault.copies import record_release
from accord.vault.models import VaultObject
from accord.vault.parquet import store_frame

from .geography import geography

MAIDSTONE = "E07000110"


def lsoas_in(district: str) -> list[str]:
    """The bundled LSOAs whose best-fit ward lies in ``district``."""
    places = geography()
    return sorted(
        lsoa
        for lsoa, ward in places.lsoa_best_fit_ward.items()
        if ward in places and places.get(ward).parent_code == district
    )


def _hashed(n: pl.Expr, seed: int, modulo: int) -> pl.Expr:
    return (n.hash(seed) % modulo).cast(pl.Int64)


def care_home_status(home: Organisation, *, seed: int, days: int = 28) -> pl.DataFrame:
    """One row a day for the last ``days`` days from ``home``."""
    today = timezone.localdate()
    beds = 30 + seed % 25
    n = pl.int_range(0, days, dtype=pl.Int64)
    return pl.select(
        report_date=pl.lit(today) - pl.duration(days=days - n),
        care_home_name=pl.lit(home.name),
        ltla_cd=pl.lit(_CARE_HOME_AREAS.get(home.name, "")),
        registered_beds=pl.lit(beds, dtype=pl.Int64),
        occupied_beds=pl.lit(beds, dtype=pl.Int64) - _hashed(n, seed, 6),
        residents_covid_positive_new_24h=_hashed(n, seed + 1, 3),
        staff_covid_positive_new_24h=_hashed(n, seed + 2, 2),
        staff_headcount=pl.lit(40 + seed % 20, dtype=pl.Int64),
        staff_absent_total=_hashed(n, seed + 3, 7),
        ppe_rag=pl.lit(pl.Series(["green", "green", "amber", "red"])).gather(
            _hashed(n, seed + 4, 4)
        ),
        visiting_status=pl.lit(pl.Series(["open", "open", "restricted"])).gather(
            _hashed(n, seed + 5, 3)
        ),
    )


_CARE_HOME_AREAS: Mapping[str, str] = {
    "Oakleigh House Care Home (synthetic)": "E07000110",
    "Kingfisher Court Care Home (synthetic)": "E07000106",
    "Riverside View Care Home (synthetic)": "E06000035",
}


def household_risk_index(rows: int = 500, *, seed: int = 44) -> pl.DataFrame:
    """Maidstone households keyed by synthetic UPRN, with SAVVI-style flags and a score."""
    lsoas = lsoas_in(MAIDSTONE)
    n = pl.int_range(0, rows, dtype=pl.Int64)
    score = _hashed(n, seed, 101)
    return pl.select(
        uprn=(pl.lit(100_000_000_000, dtype=pl.Int64) + _hashed(n, seed + 1, 899_999_999_999))
        .cast(pl.String)
        .str.zfill(12),
        uprn_is_synthetic=pl.lit(True),
        lsoa21cd=pl.lit(pl.Series(lsoas)).gather(_hashed(n, seed + 2, len(lsoas))),
        ltla_cd=pl.lit(MAIDSTONE),
        ct_band=pl.lit(pl.Series(list("ABCDEFGH"))).gather(_hashed(n, seed + 3, 8)),
        hb_in_payment=_hashed(n, seed + 4, 4) == 0,
        asc_open_service=_hashed(n, seed + 5, 9) == 0,
        fsm_in_household=_hashed(n, seed + 6, 6) == 0,
        risk_score=score,
        risk_category=pl.when(score >= 85)
        .then(pl.lit("critical"))
        .when(score >= 60)
        .then(pl.lit("high"))
        .when(score >= 30)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low")),
    )


def covid_tests_pilot(weeks: int = 8, *, seed: int = 41, ended: date | None = None) -> pl.DataFrame:
    """Weekly test counts for Maidstone's LSOAs in the bundled lookup, for ``weeks`` weeks."""
    lsoas = lsoas_in(MAIDSTONE)
    ended = ended or (timezone.localdate() - timedelta(days=400))
    frame = pl.DataFrame({"lsoa21cd": lsoas}).join(
        pl.DataFrame({"week": list(range(weeks))}), how="cross"
    )
    n = pl.int_range(0, pl.len(), dtype=pl.Int64)
    return frame.with_columns(
        week_ending=pl.lit(ended) - pl.duration(weeks=pl.lit(weeks - 1) - pl.col("week")),
        ltla_cd=pl.lit(MAIDSTONE),
        utla_cd=pl.lit("E10000016"),
        pcr_tests=_hashed(n, seed, 400) + 20,
        positive_cases=_hashed(n, seed + 1, 40),
    ).drop("week")


@dataclass(frozen=True)
class DemoDataset:
    organisation_key: str
    name: str
    description: str
    make: Callable[[], pl.DataFrame]
    retention: str
    basis: str
    received_days_ago: int | None = None
    copy_to: str = ""  # an organisation that downloaded a copy it must delete


def demo_datasets() -> tuple[DemoDataset, ...]:
    homes = (("oakleigh", 11), ("kingfisher", 12), ("riverside", 13))
    care_homes = tuple(
        DemoDataset(
            key,
            "Care home daily status, last 28 days",
            "Beds, Covid cases, staffing, PPE and visiting, one row a day (synthetic).",
            _care_home_maker(key, seed),
            "P2Y",
            "care home daily status standard default",
            copy_to="maidstone" if key == "oakleigh" else "",
        )
        for key, seed in homes
    )
    return (
        *care_homes,
        DemoDataset(
            "maidstone",
            "Household risk index",
            "One row per household (synthetic UPRNs) with council tax, benefits, social care "
            "and education flags and a risk score.",
            household_risk_index,
            "P1Y",
            "single view of vulnerability standard default",
        ),
        DemoDataset(
            "kent",
            "Covid tests by LSOA, weekly (pilot)",
            "Weekly PCR tests and positive cases for Maidstone LSOAs from the 2025 pilot, moved "
            "into Accord from the council's shared drive (synthetic).",
            covid_tests_pilot,
            "P1Y",
            "pilot sharing arrangement with UKHSA, clause 6",
            received_days_ago=400,
        ),
    )


def _care_home_maker(key: str, seed: int) -> Callable[[], pl.DataFrame]:
    from .loader import ORGANISATIONS_BY_KEY

    name = ORGANISATIONS_BY_KEY[key].name

    def make() -> pl.DataFrame:
        return care_home_status(Organisation.objects.get(name=name), seed=seed)

    return make


def store_demo_datasets(organisations: Mapping[str, Organisation]) -> list[str]:
    """Store each demo dataset not stored before; return what was stored, for the summary."""
    from .loader import demo_actor

    stored = []
    for spec in demo_datasets():
        organisation = organisations[spec.organisation_key]
        if VaultObject.objects.filter(organisation=organisation, name=spec.name).exists():
            continue
        received_at = (
            timezone.now() - timedelta(days=spec.received_days_ago)
            if spec.received_days_ago
            else None
        )
        obj = store_frame(
            by=demo_actor(),
            organisation=organisation,
            kind=ResourceKind.SUBMISSION,
            name=spec.name,
            description=spec.description,
            frame=spec.make(),
            retention=spec.retention,
            retention_basis=spec.basis,
            received_at=received_at,
        )
        stored.append(f"dataset “{spec.name}” of {organisation.name}")
        if spec.copy_to:
            recipient = organisations[spec.copy_to]
            record_release(
                by=demo_actor(),
                obj=obj,
                recipient=recipient,
                delete_by=timezone.now() + timedelta(days=10),
            )
            stored.append(f"a copy of it held by {recipient.name}, to delete in 10 days")
    return stored
