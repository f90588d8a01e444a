"""The demo's datasets, stored encrypted in the vault like any other data.

Three synthetic datasets, made with Polars expressions from hashes of the row number (no
per-row Python, and the same figures every time):

- daily status returns from each of the three synthetic care homes (use case 4.5), kept for
  the standard default of two years. Each meets the bundled care home daily status standard
  (care-home-daily-status 1.0): its columns in its order, with figures that agree with each
  other (see ``care_home_status``);
- Maidstone's household risk index (use case 4.4), one row per synthetic UPRN, kept a year;
- Maidstone Borough Council holds a copy of Oakleigh House's returns outside Accord, due for
  deletion in ten days, so its DPO is reminded and can attest deletion;
- Kent County Council's weekly Covid test counts by LSOA from a pilot (use case 4.1), moved
  into Accord from the council's old shared drive: it was first received 400 days ago and kept
  for one year under the pilot's arrangement, so its deadline has passed. The retention task
  deletes it — at once under ``accord serve``, or with ``accord retention run`` — and its
  deletion certificate appears for Kent's governance roles. It meets the bundled Covid tests
  by LSOA standard (covid-tests-lsoa-weekly 1.0).

The household risk index follows no standard on purpose: it is what a council makes from the
council tax, housing benefit and adult social care extracts (whose standards it draws on), not
a file anyone sends. ``DemoDataset.standard`` names the standard a dataset meets, if any.

UPRNs are random 12-digit numbers flagged synthetic; the care homes' CQC, ODS and UPRN
identifiers are synthetic too (see ``CareHome``), and their postcodes are valid in format and
in the right postcode district, but not checked against any real address. LSOA and area codes
are real and public.

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

from .geography import AreaEntity, geography

MAIDSTONE = "E07000110"
KENT = "E10000016"
SOUTH_EAST = "E12000008"
KENT_AND_MEDWAY_ICB = "E54000032"  # NHS Kent and Medway ICB, in the bundled icb code list


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


def _hashed_below(n: pl.Expr, seed: int, bound: pl.Expr) -> pl.Expr:
    """Like ``_hashed``, below a bound that varies by row (a positive integer expression)."""
    return (n.hash(seed) % bound.cast(pl.UInt64)).cast(pl.Int64)


@dataclass(frozen=True)
class CareHome:
    """A synthetic care home's registration: identifiers made up, areas real.

    The CQC location and provider IDs, ODS code and UPRN are SYNTHETIC: valid in format, but
    chosen (999... digits, VZ8K ODS codes) so as not to be any real home's. The postcode is
    valid in format, in a postcode district of the home's local authority (ME16 Maidstone, CT1
    Canterbury, ME2 Strood in Medway); the area codes are the authority's real ones.
    """

    cqc_location_id: str
    cqc_provider_id: str
    ods_code: str
    postcode: str
    uprn: str
    ltla_cd: str  # LAD25 code of the district, unitary or borough the home is in
    service_type: str
    registered_beds: int
    staff_headcount: int
    ipc_training_completed: bool = True
    outbreak_days_ago: int | None = None  # when its latest Covid outbreak began, if it had one
    outbreak_days: int = 12  # from suspected to declared over
    icb_cd: str = KENT_AND_MEDWAY_ICB
    combined_authority_cd: str | None = None  # Kent and Medway have no combined authority


# By organisation name (see loader.ORGANISATIONS). Two homes share a provider, so the
# dashboard can group them; Oakleigh House's outbreak is over, Kingfisher Court's is on.
CARE_HOMES: Mapping[str, CareHome] = {
    "Oakleigh House Care Home (synthetic)": CareHome(
        cqc_location_id="1-9990001101",
        cqc_provider_id="1-999000100",
        ods_code="VZ8K1",
        postcode="ME16 8AB",
        uprn="999000110001",
        ltla_cd=MAIDSTONE,
        service_type="older_adults_nursing",
        registered_beds=48,
        staff_headcount=62,
        outbreak_days_ago=20,
    ),
    "Kingfisher Court Care Home (synthetic)": CareHome(
        cqc_location_id="1-9990001202",
        cqc_provider_id="1-999000100",
        ods_code="VZ8K2",
        postcode="CT1 3TB",
        uprn="999000120002",
        ltla_cd="E07000106",  # Canterbury
        service_type="older_adults_residential",
        registered_beds=36,
        staff_headcount=44,
        ipc_training_completed=False,
        outbreak_days_ago=5,
    ),
    "Riverside View Care Home (synthetic)": CareHome(
        cqc_location_id="1-999000130",
        cqc_provider_id="1-999000200",
        ods_code="VZ8K3",
        postcode="ME2 4DT",
        uprn="999000130003",
        ltla_cd="E06000035",  # Medway
        service_type="mental_health",
        registered_beds=22,
        staff_headcount=31,
        outbreak_days_ago=70,
        outbreak_days=14,
    ),
}
DECLARED_OVER_DAYS = 28  # a home reports an outbreak as declared over for four weeks
_LEAD_DAYS = 7  # days computed before the window, so 7-day figures are whole from its start


def upper_tier_of(ltla_cd: str) -> str:
    """The upper-tier authority: a district's county, otherwise the authority itself."""
    places = geography()
    if places.get(ltla_cd).entity is AreaEntity.DISTRICT:
        return places.get(ltla_cd).parent_code
    return ltla_cd


def care_home_status(home: Organisation, *, seed: int, days: int = 28) -> pl.DataFrame:
    """One row a day for the last ``days`` days from ``home``, as the care home daily status
    standard (care-home-daily-status 1.0) has it: its columns, in its order.

    The figures hang together as a home's would: occupied beds never exceed registered beds and
    vacancies never exceed the empty beds (none while admissions are closed); cases come only
    during an outbreak, whose status runs suspected, confirmed, declared over; staff absent with
    Covid are those who tested positive in the last five days, part of all staff absent; the
    PPE RAG follows the item with the fewest days of supply; 7-day counts are rolling sums.
    """
    if home.name not in CARE_HOMES:
        raise KeyError(f"{home.name} is not one of the demo's care homes.")
    spec = CARE_HOMES[home.name]
    today = timezone.localdate()
    i = pl.int_range(0, days + _LEAD_DAYS, dtype=pl.Int64)
    ago = pl.lit(days + _LEAD_DAYS, dtype=pl.Int64) - i  # days before today

    # The outbreak: k is the day of it (0 when it was suspected), null if the home had none.
    k = pl.lit(spec.outbreak_days_ago, dtype=pl.Int64) - ago
    length = spec.outbreak_days
    outbreak_status = (
        pl.when(k < 0)
        .then(pl.lit("none"))
        .when(k == 0)
        .then(pl.lit("suspected"))
        .when(k < length)
        .then(pl.lit("confirmed"))
        .when(k < length + DECLARED_OVER_DAYS)
        .then(pl.lit("declared_over"))
        .otherwise(pl.lit("none"))
    )
    began = (
        None if spec.outbreak_days_ago is None else today - timedelta(days=spec.outbreak_days_ago)
    )
    confirmed = (k >= 1) & (k < length)
    spreading = (k >= 0) & (k < length - 5)  # no new cases in its last days
    none = pl.lit(0, dtype=pl.Int64)
    residents_new = (
        pl.when((k >= 0) & (k <= 1))  # the cases that raised the suspicion, then confirmed it
        .then(1 + _hashed(i, seed + 1, 2))
        .when(spreading)
        .then(_hashed(i, seed + 1, 3))
        .otherwise(none)
    )
    staff_new = pl.when(spreading & (k >= 1)).then(_hashed(i, seed + 2, 2)).otherwise(none)
    deaths = (
        pl.when(spreading & (k >= 3) & (_hashed(i, seed + 6, 8) == 0))
        .then(pl.lit(1, dtype=pl.Int64))
        .otherwise(none)
    )
    staff_absent_covid = staff_new.rolling_sum(5, min_samples=1)  # isolating for five days

    # Beds: up to five empty; vacancies only while the home is admitting.
    registered = pl.lit(spec.registered_beds, dtype=pl.Int64)
    empty = _hashed(i, seed, 6)
    admissions = (
        pl.when(confirmed)
        .then(pl.lit("closed"))
        .when(k == 0)
        .then(pl.lit("restricted"))
        .otherwise(pl.lit("open"))
    )
    vacant = pl.when(admissions == "closed").then(none).otherwise(empty)
    if spec.service_type == "older_adults_nursing":
        residential = _hashed_below(i, seed + 7, vacant + 1)
        nursing = vacant - residential
    else:
        residential, nursing = vacant, pl.lit(0, dtype=pl.Int64)
    dementia = (
        pl.min_horizontal(vacant, _hashed(i, seed + 8, 3))
        if spec.service_type.startswith("older_adults")
        else pl.lit(0, dtype=pl.Int64)
    )

    # PPE: each item's stock runs down a day at a time until the next delivery, twice as fast
    # while an outbreak is confirmed.
    def supply(low: int, cycle: int, offset: int) -> pl.Expr:
        at_usual_rate = low + (cycle - 1) - (i + offset) % cycle
        return pl.when(confirmed).then(at_usual_rate // 2).otherwise(at_usual_rate)

    gloves, aprons, masks = supply(10, 14, seed), supply(8, 14, seed + 5), supply(6, 21, seed + 2)
    fewest = pl.min_horizontal(gloves, aprons, masks)

    occupied = registered - empty
    unvaccinated = pl.min_horizontal(occupied, pl.lit(3 + seed % 4, dtype=pl.Int64))
    headcount = pl.lit(spec.staff_headcount, dtype=pl.Int64)
    staff_vaccinated = pl.min_horizontal(
        headcount, spec.staff_headcount * (30 + seed % 20) // 100 + i // 7
    )
    frame = pl.select(
        report_date=pl.lit(today) - pl.duration(days=ago),
        cqc_location_id=pl.lit(spec.cqc_location_id),
        cqc_provider_id=pl.lit(spec.cqc_provider_id),
        ods_code=pl.lit(spec.ods_code),
        care_home_name=pl.lit(home.name),
        postcode=pl.lit(spec.postcode),
        uprn=pl.lit(spec.uprn),
        ltla_cd=pl.lit(spec.ltla_cd),
        utla_cd=pl.lit(upper_tier_of(spec.ltla_cd)),
        icb_cd=pl.lit(spec.icb_cd),
        combined_authority_cd=pl.lit(spec.combined_authority_cd, dtype=pl.String),
        service_type=pl.lit(spec.service_type),
        registered_beds=registered,
        occupied_beds=occupied,
        vacant_beds_residential=residential,
        vacant_beds_nursing=nursing,
        vacant_beds_dementia=dementia,
        admissions_status=admissions,
        residents_covid_positive_new_24h=residents_new,
        staff_covid_positive_new_24h=staff_new,
        residents_covid_deaths_7d=deaths.rolling_sum(7, min_samples=1),
        outbreak_status=outbreak_status,
        outbreak_start_date=pl.when(k >= 0).then(pl.lit(began, dtype=pl.Date)),
        ppe_days_gloves=gloves,
        ppe_days_aprons=aprons,
        ppe_days_iir_masks=masks,
        ppe_rag=pl.when(fewest < 7)
        .then(pl.lit("red"))
        .when(fewest <= 14)
        .then(pl.lit("amber"))
        .otherwise(pl.lit("green")),
        staff_headcount=headcount,
        staff_absent_total=staff_absent_covid + _hashed(i, seed + 3, 5),
        staff_absent_covid=staff_absent_covid,
        agency_shifts_7d=(_hashed(i, seed + 4, 3) + 2 * staff_absent_covid).rolling_sum(
            7, min_samples=1
        ),
        visiting_status=pl.when(outbreak_status.is_in(["suspected", "confirmed"]))
        .then(pl.lit("restricted"))
        .otherwise(pl.lit("open")),
        residents_booster_pct=(100 * (occupied - unvaccinated) / occupied).round(1),
        staff_booster_pct=(100 * staff_vaccinated / headcount).round(1),
        ipc_training_completed=pl.lit(spec.ipc_training_completed),
    )
    return frame.slice(_LEAD_DAYS)


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


COVID_TESTS_COLUMNS = (
    "week_ending",
    "lsoa21cd",
    "lsoa21nm",
    "msoa21cd",
    "ltla_cd",
    "utla_cd",
    "region_cd",
    "age_band",
    "pcr_tests",
    "lfd_tests",
    "positive_cases",
    "positivity_pct",
    "case_rate_per_100k",
    "population_denominator",
    "suppressed",
    "data_as_of",
    "source",
)
SUPPRESSED_BELOW = 5  # counts below this are left blank, as UKHSA does before sending


def covid_tests_pilot(weeks: int = 8, *, seed: int = 41, ended: date | None = None) -> pl.DataFrame:
    """Weekly test counts for Maidstone's LSOAs in the bundled lookup, for ``weeks`` weeks, as
    the Covid tests by LSOA standard (covid-tests-lsoa-weekly 1.0) has them: one row per LSOA,
    week and testing pillar, all ages together, positive cases below 5 suppressed.

    The weeks end on a Sunday, the last of them about 400 days ago unless ``ended`` is given.
    UKHSA's extract is dated the Tuesday after. MSOA codes are left blank: the bundled
    geography does not have them, and the standard does not require them.
    """
    places = geography()
    lsoas = lsoas_in(MAIDSTONE)
    if ended is None:
        ended = timezone.localdate() - timedelta(days=400)
        ended -= timedelta(days=(ended.weekday() + 1) % 7)  # back to a Sunday
    areas = pl.DataFrame(
        {"lsoa21cd": lsoas, "lsoa21nm": [places.name_of(code) for code in lsoas]}
    ).with_columns(
        population_denominator=1300 + _hashed(pl.int_range(0, pl.len(), dtype=pl.Int64), seed, 900)
    )
    frame = (
        pl.DataFrame({"week": list(range(weeks))})
        .join(areas, how="cross")
        .join(pl.DataFrame({"source": ["pillar1", "pillar2"]}), how="cross")
    )
    n = pl.int_range(0, pl.len(), dtype=pl.Int64)
    community = pl.col("source") == "pillar2"  # pillar 1 is NHS and UKHSA labs, for hospitals
    pcr = (
        pl.when(community)
        .then(20 + _hashed(n, seed + 1, 400))
        .otherwise(10 + _hashed(n, seed + 1, 60))
    )
    lfd = (
        pl.when(community)
        .then(200 + _hashed(n, seed + 2, 1200))
        .otherwise(5 + _hashed(n, seed + 2, 30))
    )
    positive = pcr // 20 + _hashed_below(n, seed + 3, pcr // 6 + 1)  # under a quarter of them
    shown = pl.col("positive_cases") >= SUPPRESSED_BELOW
    return (
        frame.with_columns(pcr_tests=pcr, lfd_tests=lfd, positive_cases=positive)
        .with_columns(
            week_ending=pl.lit(ended) - pl.duration(weeks=pl.lit(weeks - 1) - pl.col("week")),
            msoa21cd=pl.lit(None, dtype=pl.String),
            ltla_cd=pl.lit(MAIDSTONE),
            utla_cd=pl.lit(KENT),
            region_cd=pl.lit(SOUTH_EAST),
            age_band=pl.lit("all"),
            positivity_pct=pl.when(shown).then(
                (100 * pl.col("positive_cases") / pl.col("pcr_tests")).round(1)
            ),
            case_rate_per_100k=pl.when(shown).then(
                (100_000 * pl.col("positive_cases") / pl.col("population_denominator")).round(1)
            ),
            suppressed=~shown,
            positive_cases=pl.when(shown).then(pl.col("positive_cases")),
        )
        .with_columns(
            data_as_of=pl.col("week_ending").cast(pl.Datetime("us", "UTC"))
            + pl.duration(days=2, hours=9)
        )
        .sort("week", "lsoa21cd", "source")
        .select(COVID_TESTS_COLUMNS)
    )


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
    standard: str = ""  # the slug of the bundled standard the frame meets (version 1.0), if any


def demo_datasets() -> tuple[DemoDataset, ...]:
    homes = (("oakleigh", 11), ("kingfisher", 12), ("riverside", 13))
    care_homes = tuple(
        DemoDataset(
            key,
            "Care home daily status, last 28 days",
            "Beds and vacancies, admissions, Covid cases and outbreaks, PPE, staffing, visiting "
            "and vaccination, one row a day, as the care home daily status standard has them "
            "(synthetic).",
            _care_home_maker(key, seed),
            "P2Y",
            "care home daily status standard default",
            copy_to="maidstone" if key == "oakleigh" else "",
            standard="care-home-daily-status",
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
            "Weekly PCR and lateral flow tests and positive cases by testing pillar for "
            "Maidstone LSOAs from the 2025 pilot, moved into Accord from the council's shared "
            "drive (synthetic).",
            covid_tests_pilot,
            "P1Y",
            "pilot sharing arrangement with UKHSA, clause 6",
            received_days_ago=400,
            standard="covid-tests-lsoa-weekly",
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
