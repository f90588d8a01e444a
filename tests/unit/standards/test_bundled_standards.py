"""The standards Accord ships: each parses, is complete, and its examples meet its own rules.

Use cases from shared/reference/use-cases-and-demo-data.md §4.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import polars as pl
import pytest

from accord.standards import checks, codelists
from accord.standards.queries import bundled_standards
from accord.standards.schema import Field, Standard

SLUGS = {
    "care-home-daily-status",
    "vaccination-uptake-lsoa",
    "covid-tests-lsoa-weekly",
    "shielded-patient-list",
    "fsm-eligibility",
    "revenue-outturn",
    "council-tax-accounts",
    "housing-benefit-claims",
    "adult-social-care-services",
}
PERSONAL = {
    "shielded-patient-list",
    "fsm-eligibility",
    "council-tax-accounts",
    "housing-benefit-claims",
    "adult-social-care-services",
}
STANDARDS = {s.slug: s for s in bundled_standards()}
EVERY_FIELD = [
    pytest.param(standard, field, id=f"{standard.slug}.{field.name}")
    for standard in STANDARDS.values()
    for field in standard.fields
]
EVERY_STANDARD = [pytest.param(s, id=s.slug) for s in STANDARDS.values()]


def _normalised(header: str) -> str:
    """Headers as the engine matches them: ignoring case, spacing and punctuation."""
    return re.sub(r"[^a-z0-9]", "", header.lower())


def test_the_nine_standards_are_bundled_at_version_1_0() -> None:
    assert set(STANDARDS) == SLUGS
    assert {s.version for s in STANDARDS.values()} == {"1.0"}


@pytest.mark.parametrize("standard", EVERY_STANDARD)
def test_each_standard_says_who_sends_what_and_what_a_row_is(standard: Standard) -> None:
    assert standard.title
    assert len(standard.description) > 200
    assert standard.row_description.startswith("One row per ")
    assert "personalData" in standard.descriptor["accord"]
    assert standard.personal_data == (standard.slug in PERSONAL)


@pytest.mark.parametrize("standard", EVERY_STANDARD)
def test_personal_columns_only_in_personal_standards(standard: Standard) -> None:
    personal = [f.name for f in standard.fields if f.personal]
    assert bool(personal) == standard.personal_data


@pytest.mark.parametrize(("standard", "field"), EVERY_FIELD)
def test_every_column_is_described(standard: Standard, field: Field) -> None:
    raw = next(f for f in standard.descriptor["fields"] if f["name"] == field.name)
    assert raw.get("title"), "every column has a title of its own"
    assert len(field.description) > 15
    assert field.example
    if field.type in ("date", "datetime"):
        assert field.format == "any", "council-facing dates accept DD/MM/YYYY too"


@pytest.mark.parametrize("standard", EVERY_STANDARD)
def test_no_header_could_match_two_columns(standard: Standard) -> None:
    owner: dict[str, str] = {}
    for field in standard.fields:
        for header in {field.name, field.title, *field.aliases}:
            key = _normalised(header)
            assert owner.setdefault(key, field.name) == field.name, (
                f"'{header}' would match both {owner[key]} and {field.name}"
            )


@pytest.mark.parametrize("standard", EVERY_STANDARD)
def test_primary_key_columns_are_required(standard: Standard) -> None:
    for name in standard.primary_key:
        assert standard.field(name).required


@pytest.mark.parametrize(("standard", "field"), EVERY_FIELD)
def test_messages_name_rules_the_column_has(standard: Standard, field: Field) -> None:
    rules = _rule_ids(field)
    for rule, message in field.messages.items():
        assert rule in rules, f"{field.name} has no rule {rule!r}"
        assert "{value}" in message or rule == "required"


def _rule_ids(field: Field) -> set[str]:
    ids = {"enum", "code_list", "pattern", "min_length", "max_length", "minimum", "maximum"}
    if field.required:
        ids.add("required")
    if field.type == "date":
        ids |= {r.id for r in checks.date_rules(field.format, excel_serial=True)}
    if field.type == "datetime":
        ids |= {r.id for r in checks.datetime_rules(field.format)}
    if field.identifier:
        kind = checks.IDENTIFIER_TYPES[field.identifier]
        ids |= {r.id for r in kind.rules(checks.IdentifierOptions(field.gss_entities))}
    return ids


def test_identifier_columns_carry_their_identifier_type() -> None:
    expected = {
        "nhs_number": "nhs_number",
        "uprn": "uprn",
        "usrn": "usrn",
        "postcode": "postcode",
        "home_postcode": "postcode",
        "cqc_location_id": "cqc_location_id",
        "ods_code": "ods",
        "gp_practice_ods": "ods",
        "child_upn": "upn",
        "parent_nino": "nino",
        "partner_nino": "nino",
        "nino": "nino",
        "school_urn": "urn",
        "school_laestab": "laestab",
    }
    seen = set()
    for standard in STANDARDS.values():
        for field in standard.fields:
            if field.name in expected:
                assert field.identifier == expected[field.name], f"{standard.slug}.{field.name}"
                seen.add(field.name)
            if field.identifier == "gss":
                assert field.gss_entities, f"{standard.slug}.{field.name} names its areas"
    assert seen == set(expected)


def test_lower_tier_authority_columns_use_the_lad25_code_list() -> None:
    for standard in STANDARDS.values():
        for field in standard.fields:
            if field.gss_entities == ("local_authority",):
                assert field.code_list == "lad25", f"{standard.slug}.{field.name}"


def test_area_columns_name_the_right_kind_of_area() -> None:
    kinds = {
        "lsoa21cd": ("lsoa",),
        "msoa21cd": ("msoa",),
        "ltla_cd": ("local_authority",),
        "utla_cd": ("upper_tier_authority",),
        "icb_cd": ("icb",),
        "combined_authority_cd": ("combined_authority",),
        "region_cd": ("region",),
    }
    for standard in STANDARDS.values():
        for field in standard.fields:
            if field.name in kinds:
                assert field.gss_entities == kinds[field.name], f"{standard.slug}.{field.name}"


def test_the_care_home_standard_is_the_flagship() -> None:
    care = STANDARDS["care-home-daily-status"]
    assert 30 <= len(care.fields) <= 40
    assert care.primary_key == ("report_date", "cqc_location_id")
    assert care.row_description == "One row per care home per day"
    assert not care.personal_data
    aliases = {a for f in care.fields for a in f.aliases}
    assert {"Date", "CQC Location ID", "Postcode", "Post code"} <= aliases
    assert {"NHS No", "NHS Number"} <= set(
        STANDARDS["shielded-patient-list"].field("nhs_number").aliases
    )
    assert care.field("registered_beds").minimum == 0
    assert care.field("registered_beds").maximum == 1000
    assert care.field("outbreak_status").enum == ("none", "suspected", "confirmed", "declared_over")
    assert care.field("ppe_rag").enum == ("red", "amber", "green", "blue")
    assert care.field("ltla_cd").code_list == "lad25"
    assert care.field("icb_cd").gss_entities == ("icb",)
    for name in ("residents_booster_pct", "staff_booster_pct"):
        assert (care.field(name).minimum, care.field(name).maximum) == (0, 100)


def test_dates_of_birth_start_in_1900_or_later() -> None:
    for standard in STANDARDS.values():
        for field in standard.fields:
            if field.name.endswith(("_dob", "date_of_birth")):
                assert field.type == "date"
                assert str(field.minimum) >= "1900-01-01", f"{standard.slug}.{field.name}"


def test_the_single_view_sources_link_by_uprn_and_person() -> None:
    for slug in ("council-tax-accounts", "housing-benefit-claims", "adult-social-care-services"):
        names = {f.name for f in STANDARDS[slug].fields}
        assert {"uprn", "person_id", "date_of_birth"} <= names, slug
    social_care = STANDARDS["adult-social-care-services"]
    assert "nhs_number" in {f.name for f in social_care.fields}
    assert not any("note" in f.name for f in social_care.fields), "flags, not case notes"
    assert social_care.field("primary_support_reason").enum == (
        "physical",
        "sensory",
        "memory_and_cognition",
        "learning_disability",
        "mental_health",
        "social_support",
    )


# --- every example is valid under its own column's rules -----------------------------------------


def _examples(standard: Standard) -> pl.DataFrame:
    """One row made of the standard's examples, all text, as a file would arrive."""
    return pl.DataFrame(
        {f.name: [f.example] for f in standard.fields},
        schema_overrides={f.name: pl.String for f in standard.fields},
    )


def _broken_rules(field: Field, row: pl.DataFrame) -> list[str]:
    col = pl.col(field.name)
    text = row[field.name][0]
    broken: list[str] = []

    def fails(expr: pl.Expr, frame: pl.DataFrame = row) -> bool:
        return bool(frame.select(expr.fill_null(True)).item())

    value: Any = text
    if field.type == "date":
        serial = field.format == "any"
        broken += [
            r.id
            for r in checks.date_rules(field.format, excel_serial=serial)
            if fails(r.fails(col))
        ]
        cleaned_date = row.select(checks.clean_date(col, field.format, excel_serial=serial)).item()
        if cleaned_date is None:
            return broken
        value = date.fromisoformat(cleaned_date)
    elif field.type == "datetime":
        broken += [r.id for r in checks.datetime_rules(field.format) if fails(r.fails(col))]
    elif field.type == "integer":
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            broken.append("integer")
        value = int(text)
    elif field.type == "number":
        value = float(text)
    elif field.type == "boolean" and text.lower() not in field.true_values + field.false_values:
        broken.append("boolean")
    if field.identifier:
        kind = checks.IDENTIFIER_TYPES[field.identifier]
        cleaned = row.select(kind.clean(col).alias(field.name))
        options = checks.IdentifierOptions(gss_entities=field.gss_entities)
        broken += [r.id for r in kind.rules(options) if fails(r.fails(col), cleaned)]
        value = cleaned.item()
    if field.enum is not None and value not in field.enum:
        broken.append("enum")
    if field.code_list is not None and value not in codelists.load(field.code_list):
        broken.append("code_list")
    if field.pattern is not None and not re.fullmatch(field.pattern, str(value)):
        broken.append("pattern")
    if field.max_length is not None and len(str(value)) > field.max_length:
        broken.append("max_length")
    if field.min_length is not None and len(str(value)) < field.min_length:
        broken.append("min_length")
    low: Any = field.minimum
    high: Any = field.maximum
    if isinstance(value, date):
        low = date.fromisoformat(str(low)) if low is not None else None
        high = date.fromisoformat(str(high)) if high is not None else None
    if low is not None and value < low:
        broken.append("minimum")
    if high is not None and value > high:
        broken.append("maximum")
    return broken


@pytest.mark.parametrize("standard", EVERY_STANDARD)
def test_every_example_meets_its_own_rules(standard: Standard) -> None:
    row = _examples(standard)
    broken = {f.name: _broken_rules(f, row) for f in standard.fields}
    assert {name: rules for name, rules in broken.items() if rules} == {}


@pytest.mark.parametrize(
    ("identifier", "bad"),
    [
        ("nhs_number", "999 234 5676"),
        ("upn", "M204234518002"),
        ("nino", "QQ123456C"),
        ("postcode", "ME16 8CB"),
        ("cqc_location_id", "12345"),
    ],
)
def test_the_example_check_catches_a_bad_value(identifier: str, bad: str) -> None:
    """The helper above is not vacuous: it finds a wrong check digit, prefix or format."""
    field = Field(name="x", title="X", example=bad, identifier=identifier)
    assert _broken_rules(field, pl.DataFrame({"x": [bad]}))


def test_the_example_check_catches_a_bad_range_date_and_code() -> None:
    cases = [
        Field(name="x", title="X", type="integer", example="1001", maximum=1000),
        Field(name="x", title="X", type="date", format="any", example="31/02/2024"),
        Field(
            name="x",
            title="X",
            type="date",
            format="any",
            example="2019-12-31",
            minimum="2020-01-01",
        ),
        Field(
            name="x",
            title="X",
            example="E10000016",
            identifier="gss",
            gss_entities=("local_authority",),
            code_list="lad25",
        ),
        Field(
            name="x",
            title="X",
            example="E07999999",
            identifier="gss",
            gss_entities=("local_authority",),
            code_list="lad25",
        ),
    ]
    for field in cases:
        assert _broken_rules(field, pl.DataFrame({"x": [field.example]})), field
