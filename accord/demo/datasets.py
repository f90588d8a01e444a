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

Two more generators make data that reaches Accord the way real data would, rather than being
stored directly: ``housing_benefit_claims`` (Kent's extract, sent as a return to its collection,
see ``housing_benefit``) and ``covid_tests_weekly`` (UKHSA's weekly file for every council,
published as a release, see ``releases``).

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

import itertools
from collections.abc import Callable, Mapping, Sequence
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
CANTERBURY = "E07000106"
TUNBRIDGE_WELLS = "E07000116"
KENT = "E10000016"
SOUTH_EAST = "E12000008"
KENT_AND_MEDWAY_ICB = "E54000032"  # NHS Kent and Medway ICB, in the bundled icb code list
# Real postcode districts (outward codes) in each Kent district, for synthetic postcodes.
POSTCODE_DISTRICTS: Mapping[str, tuple[str, ...]] = {
    MAIDSTONE: ("ME14", "ME15", "ME16", "ME17"),
    CANTERBURY: ("CT1", "CT2", "CT3", "CT4", "CT6"),
    TUNBRIDGE_WELLS: ("TN1", "TN2", "TN3", "TN4", "TN12", "TN17", "TN18"),
}


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


def region_of(code: str) -> str:
    """The region (E12) an area lies in, walking up the bundled geography."""
    places = geography()
    area = places.get(code)
    while area.entity is not AreaEntity.REGION:
        area = places.get(area.parent_code)
    return area.code


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
    if ended is None:
        ended = last_sunday(timezone.localdate() - timedelta(days=400))
    return covid_tests_weekly((MAIDSTONE,), weeks=weeks, seed=seed, ended=ended)


def last_sunday(day: date) -> date:
    """``day`` if it is a Sunday, else the Sunday before it."""
    return day - timedelta(days=(day.weekday() + 1) % 7)


def covid_tests_weekly(
    districts: Sequence[str], *, weeks: int = 1, seed: int = 41, ended: date
) -> pl.DataFrame:
    """Weekly test counts for the bundled LSOAs of each of ``districts`` (district, unitary or
    borough codes), for ``weeks`` weeks up to the week ending ``ended`` (a Sunday), as the Covid
    tests by LSOA standard (covid-tests-lsoa-weekly 1.0) has them (see ``covid_tests_pilot``)."""
    places = geography()
    lsoas = [(lsoa, district) for district in districts for lsoa in lsoas_in(district)]
    areas = pl.DataFrame(
        {
            "lsoa21cd": [lsoa for lsoa, _ in lsoas],
            "lsoa21nm": [places.name_of(lsoa) for lsoa, _ in lsoas],
            "ltla_cd": [district for _, district in lsoas],
            "utla_cd": [upper_tier_of(district) for _, district in lsoas],
            "region_cd": [region_of(district) for _, district in lsoas],
        },
        schema=dict.fromkeys(
            ("lsoa21cd", "lsoa21nm", "ltla_cd", "utla_cd", "region_cd"), pl.String
        ),
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


# Housing benefit claims (use case 4.4) ---------------------------------------------------------

HB_DISTRICT_SHARES = ((MAIDSTONE, 40), (CANTERBURY, 35), (TUNBRIDGE_WELLS, 25))  # per cent
# Valid NINO prefixes (see standards.checks): the numbers are random, so any real person's
# number they match is by chance. The people are synthetic.
_NINO_PREFIXES = ("AB", "CE", "JM", "JX", "NX", "PW", "SH", "WK", "YT", "ZH")
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters used in inward codes (no C I K M O V)
_HEX = "0123456789abcdef"
_TENURES = (  # (tenure, per cent): most housing benefit claimants rent
    ("council", 25),
    ("ra", 35),
    ("private_rented", 30),
    ("temporary_accommodation", 5),
    ("owner", 5),
)
_AWARD_BANDS = ("under_50", "50_to_100", "100_to_200", "over_200")
_CLAIM_YEARS = 15  # established claims began up to this long before the first extract


def _pick(values: Sequence[str], index: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series(list(values), dtype=pl.String)).gather(index)


def _weighted(choices: Sequence[tuple[str, int]], roll: pl.Expr) -> pl.Expr:
    """The choice whose share of 100 ``roll`` (0-99) lands in."""
    bounds = list(itertools.accumulate(share for _, share in choices))
    if bounds[-1] != 100:
        raise ValueError("The shares must add up to 100.")
    index = pl.sum_horizontal([(roll >= bound).cast(pl.Int64) for bound in bounds[:-1]])
    return _pick([value for value, _ in choices], index)


def _hex8(value: pl.Expr) -> pl.Expr:
    """Eight lower-case hex digits of a 32-bit value."""
    digits = [_pick(_HEX, (value // 16**k) % 16) for k in range(7, -1, -1)]
    return pl.concat_str(digits)


def housing_benefit_claims(
    extract_date: date,
    *,
    first: int = 0,
    rows: int = 1200,
    established: int | None = None,
    since: date | None = None,
    seed: int = 61,
) -> pl.DataFrame:
    """Kent's extract of housing benefit claims in its districts on ``extract_date``, as the
    housing benefit claims standard (housing-benefit-claims 1.0) has it: claims number
    ``first`` to ``first + rows - 1``, one row each, spread over Maidstone, Canterbury and
    Tunbridge Wells.

    A claim's number fixes everything about it but its status, which may change from one
    extract to the next; so two extracts over overlapping numbers describe the same claims.
    Claims numbered ``established`` or more are new: they began after ``since`` (the earlier
    extract's date); the rest began before it. Everything is synthetic: the references are
    pseudonyms, the NINOs random numbers of valid format, UPRNs random 12-digit numbers
    starting 99; districts and postcode districts are real.
    """
    since = since or extract_date
    established = first + rows if established is None else established
    n = pl.int_range(first, first + rows, dtype=pl.Int64)
    district_roll = _hashed(n, seed, 100)
    ltla = _weighted([(code, share) for code, share in HB_DISTRICT_SHARES], district_roll)
    outward_count = ltla.replace_strict(
        {code: len(outwards) for code, outwards in POSTCODE_DISTRICTS.items()},
        return_dtype=pl.Int64,
    )
    outwards = pl.DataFrame(
        {
            "ltla_cd": [code for code, values in POSTCODE_DISTRICTS.items() for _ in values],
            "k": [k for values in POSTCODE_DISTRICTS.values() for k in range(len(values))],
            "outward": [value for values in POSTCODE_DISTRICTS.values() for value in values],
        },
        schema={"ltla_cd": pl.String, "k": pl.Int64, "outward": pl.String},
    )
    # Pensioners are most of those still on housing benefit (Universal Credit replaced it for
    # most people of working age).
    pensioner = _hashed(n, seed + 1, 100) < 55
    age = (
        pl.when(pensioner)
        .then(66 + _hashed(n, seed + 2, 30))
        .otherwise(18 + _hashed(n, seed + 2, 48))
    )
    born = pl.lit(since) - pl.duration(days=age * 365 + _hashed(n, seed + 3, 365))
    adult_at = born + pl.duration(days=18 * 366)
    began = (
        pl.when(n < established)
        .then(pl.lit(since) - pl.duration(days=1 + _hashed(n, seed + 4, _CLAIM_YEARS * 365)))
        .otherwise(
            pl.lit(since)
            + pl.duration(days=1 + _hashed(n, seed + 4, max((extract_date - since).days, 1)))
        )
    )
    tenure = _weighted(_TENURES, _hashed(n, seed + 5, 100))
    status_roll = _hashed(n, seed + 6 + extract_date.toordinal(), 100)
    status = (
        pl.when(status_roll < 88)
        .then(pl.lit("live"))
        .when(status_roll < 93)
        .then(pl.lit("suspended"))
        .otherwise(pl.lit("closed"))
    )
    live = status == "live"
    in_payment = live & (tenure != "owner") & (_hashed(n, seed + 7, 100) < 92)
    band = _pick(
        _AWARD_BANDS,
        pl.min_horizontal(
            _hashed(n, seed + 8, 3) + (tenure == "private_rented").cast(pl.Int64),
            pl.lit(3, dtype=pl.Int64),
        ),
    )
    size = (
        pl.when(pensioner).then(1 + _hashed(n, seed + 9, 2)).otherwise(1 + _hashed(n, seed + 9, 5))
    )
    children = (
        pl.when(pensioner).then(0).otherwise(pl.min_horizontal(size - 1, _hashed(n, seed + 10, 4)))
    )
    frame = pl.select(
        n=n,
        hb_claim_ref=pl.lit("hb-") + _hex8((n * 2_654_435_761 + seed) % 2**32),
        person_id=pl.lit("p-") + _hex8((n * 2_246_822_519 + seed + 1) % 2**32),
        nino=pl.concat_str(
            _pick(_NINO_PREFIXES, _hashed(n, seed + 11, len(_NINO_PREFIXES))),
            ((n * 7_919 + seed) % 1_000_000).cast(pl.String).str.zfill(6),
            _pick("ABCD", _hashed(n, seed + 12, 4)),
        ),
        date_of_birth=born.dt.date(),
        uprn=(990_000_000_000 + _hashed(n, seed + 13, 9_999_999_999)).cast(pl.String),
        ltla_cd=ltla,
        k=_hashed_below(n, seed + 14, outward_count),
        inward=pl.concat_str(
            _hashed(n, seed + 15, 10).cast(pl.String),
            _pick(_INWARD_LETTERS, _hashed(n, seed + 16, len(_INWARD_LETTERS))),
            _pick(_INWARD_LETTERS, _hashed(n, seed + 17, len(_INWARD_LETTERS))),
        ),
        claim_status=status,
        hb_in_payment=in_payment,
        hb_weekly_award_band=pl.when(in_payment).then(band).otherwise(pl.lit("none")),
        ctr_in_payment=live & (_hashed(n, seed + 18, 100) < 85),
        uc_housing_element_flag=~pensioner & ~in_payment & (_hashed(n, seed + 19, 100) < 40),
        dhp_award_12m=in_payment & (_hashed(n, seed + 20, 100) < 7),
        tenure=tenure,
        household_size=size,
        children_in_household_count=children,
        claim_start_date=pl.max_horizontal(began, adult_at).dt.date(),
        extract_date=pl.lit(extract_date),
    )
    return (
        frame.join(outwards, on=["ltla_cd", "k"], how="left", maintain_order="left")
        .with_columns(postcode=pl.col("outward") + " " + pl.col("inward"))
        .select(HB_COLUMNS)
    )


HB_COLUMNS = (
    "hb_claim_ref",
    "person_id",
    "nino",
    "date_of_birth",
    "uprn",
    "postcode",
    "ltla_cd",
    "claim_status",
    "hb_in_payment",
    "hb_weekly_award_band",
    "ctr_in_payment",
    "uc_housing_element_flag",
    "dhp_award_12m",
    "tenure",
    "household_size",
    "children_in_household_count",
    "claim_start_date",
    "extract_date",
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
