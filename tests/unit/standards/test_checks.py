"""Vectorised identifier and date checks (accord.standards.checks), held to the scalar validators.

Rules from shared/reference/identifiers-and-codes.md; pitfalls from
validation-and-disclosure-control.md §A.5 (lenient casts, null rule results).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime

import polars as pl
import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.standards import checks, identifiers
from accord.standards.checks import (
    GSS_ENTITY_PREFIXES,
    IDENTIFIER_TYPES,
    IdentifierOptions,
    Rule,
    clean_date,
    clean_datetime,
    date_rules,
    datetime_rules,
    parse_date_expr,
)
from accord.standards.schema import parse_standard

PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

EXPECTED_RULES = {
    "nhs_number": ("nhs_number_scientific", "nhs_number_format", "nhs_number_check_digit"),
    "upn": ("upn_format", "upn_check_letter"),
    "nino": ("nino_format", "nino_prefix"),
    "postcode": ("postcode_format",),
    "postcode_pseudo": ("postcode_pseudo_format",),
    "uprn": ("uprn_scientific", "uprn_format", "uprn_range"),
    "usrn": ("usrn_scientific", "usrn_format", "usrn_range"),
    "gss": ("gss_format",),
    "ods": ("ods_format",),
    "urn": ("urn_format",),
    "laestab": ("laestab_format",),
    "cqc_location_id": ("cqc_location_id_format",),
}
PERSONAL = {"nhs_number", "upn", "nino", "uprn"}


# Helpers ----------------------------------------------------------------------------------------


def run_rules(
    values: Sequence[str | None], clean: Callable[[pl.Expr], pl.Expr], rules: Sequence[Rule]
) -> tuple[list[str | None], list[str | None]]:
    """The cleaned values, and for each the id of the first rule it breaks (None: valid).

    Also checks the contract: every rule gives true or false, never null."""
    frame = pl.DataFrame({"raw": list(values)}, schema={"raw": pl.String})
    out = frame.select(
        clean(pl.col("raw")).alias("clean"),
        *(rule.fails(clean(pl.col("raw"))).alias(f"rule{i}") for i, rule in enumerate(rules)),
    )
    for i in range(len(rules)):
        assert out[f"rule{i}"].dtype == pl.Boolean
        assert out[f"rule{i}"].null_count() == 0, f"{rules[i].id} gave null"
    first: list[str | None] = []
    for row in out.iter_rows(named=True):
        broken = [rule.id for i, rule in enumerate(rules) if row[f"rule{i}"]]
        first.append(broken[0] if broken else None)
    return out["clean"].to_list(), first


def identifier_outcomes(
    kind: str, values: Sequence[str | None], entities: tuple[str, ...] = ()
) -> tuple[list[str | None], list[str | None]]:
    kind_type = IDENTIFIER_TYPES[kind]
    return run_rules(values, kind_type.clean, kind_type.rules(IdentifierOptions(entities)))


def scalar_outcome(
    check: Callable[..., object], *args: object, **kwargs: object
) -> tuple[object, str | None]:
    """What a scalar validator did: its result, or the code of the ValidationError it raised."""
    try:
        return check(*args, **kwargs), None
    except ValidationError as error:
        return None, error.code


def assert_identifier_parity(
    kind: str, values: Sequence[str], entities: tuple[str, ...] = ()
) -> None:
    cleaned, first = identifier_outcomes(kind, values, entities)
    for value, clean, rule_id in zip(values, cleaned, first, strict=True):
        result, code = scalar_outcome(
            identifiers.validate_identifier, kind, value, gss_entities=entities
        )
        assert code == rule_id, f"{kind} {value!r}: scalar {code}, vectorised {rule_id}"
        if code is None:
            assert result == clean, f"{kind} {value!r}: scalar {result!r}, cleaned {clean!r}"


# Strategies -------------------------------------------------------------------------------------

DIGITS = "0123456789"
# Includes the characters Python's and Rust's whitespace classes disagree on.
SPACES = st.text(alphabet=" \t\n\u00a0\u200b\ufeff\x1c\u2028\u3000", max_size=2)


@st.composite
def nhs_numbers(draw: st.DrawFn, prefix: str = "") -> str:
    nine = prefix + draw(
        st.text(alphabet=DIGITS, min_size=9 - len(prefix), max_size=9 - len(prefix))
    )
    check = identifiers.nhs_check_digit(nine)
    if check is None:  # a check of 10 is never issued: nudge the last digit
        nine = nine[:8] + str((int(nine[8]) + 1) % 10)
        check = identifiers.nhs_check_digit(nine)
    assert check is not None
    return nine + str(check)


@st.composite
def upns(draw: st.DrawFn) -> str:
    body = draw(st.text(alphabet=DIGITS, min_size=11, max_size=11))
    body += draw(st.sampled_from(DIGITS + checks.UPN_ALPHABET))
    return identifiers.upn_check_letter(body) + body


NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"


@st.composite
def ninos(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(NINO_FIRST)) + draw(st.sampled_from(NINO_SECOND))
    if prefix in checks.NINO_UNUSED_PREFIXES:
        prefix = "AB"
    return (
        prefix
        + draw(st.text(alphabet=DIGITS, min_size=6, max_size=6))
        + draw(st.sampled_from("ABCD"))
    )


def _from_regex(pattern: str) -> st.SearchStrategy[str]:
    return st.from_regex(re.compile(pattern), fullmatch=True)


@st.composite
def postcodes(draw: st.DrawFn, pseudo: bool = False) -> str:
    pattern = checks.POSTCODE_PSEUDO_PATTERN if pseudo else checks.POSTCODE_PATTERN
    compact = draw(_from_regex(pattern))
    return f"{compact[:-3]} {compact[-3:]}" if draw(st.booleans()) else compact


ALL_GSS_PREFIXES = sorted({p for ps in GSS_ENTITY_PREFIXES.values() for p in ps} | {"K04"})

VALID: dict[str, st.SearchStrategy[str]] = {
    "nhs_number": nhs_numbers(),
    "upn": upns(),
    "nino": ninos(),
    "postcode": postcodes(),
    "postcode_pseudo": st.one_of(postcodes(), postcodes(pseudo=True)),
    "uprn": st.integers(1, 999_999_999_999).map(str),
    "usrn": st.integers(1, 99_999_999).map(str),
    "gss": st.builds(
        lambda p, d: p + d,
        st.sampled_from(ALL_GSS_PREFIXES),
        st.text(alphabet=DIGITS, min_size=6, max_size=6),
    ),
    "ods": _from_regex(checks.ODS_PATTERN),
    "urn": _from_regex(checks.URN_PATTERN),
    "laestab": _from_regex(checks.LAESTAB_PATTERN),
    "cqc_location_id": _from_regex(r"^1-[0-9]{1,11}$"),
}


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A valid value with one typing error: a substituted, swapped, dropped or added
    character."""
    value = draw(base)
    i = draw(st.integers(0, len(value) - 1))
    kind = draw(st.sampled_from(["substitute", "transpose", "drop", "insert"]))
    char = draw(st.sampled_from(DIGITS + "ABCDEIOQSZ -./+e"))
    if kind == "substitute":
        return value[:i] + char + value[i + 1 :]
    if kind == "transpose" and i + 1 < len(value):
        return value[:i] + value[i + 1] + value[i] + value[i + 2 :]
    if kind == "drop":
        return value[:i] + value[i + 1 :]
    return value[:i] + char + value[i:]


@st.composite
def messy(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A valid value as people type or spreadsheets write it: case, spaces, hyphens, ``.0``,
    scientific notation."""
    value = draw(base)
    form = draw(st.sampled_from(["case", "spaces", "hyphens", "decimal", "scientific", "pad"]))
    if form == "case":
        return "".join(c.lower() if draw(st.booleans()) else c for c in value)
    if form == "spaces":
        return "".join(c + draw(SPACES) for c in value)
    if form == "hyphens" and len(value) > 6:
        return f"{value[:3]}-{value[3:6]}-{value[6:]}"
    if form == "decimal":
        return value + draw(st.sampled_from([".0", ".00", ".5", ".", ".0.0"]))
    if form == "scientific" and value.isdigit():
        return f"{int(value):.{draw(st.integers(0, 5))}E}"
    return draw(SPACES) + value + draw(SPACES)


# Values of roughly the right shape, valid or not: they probe the edges of each rule.
SHAPED: dict[str, st.SearchStrategy[str]] = {
    "nhs_number": _from_regex(r"^[0-9]{9,11}$"),
    "upn": _from_regex(r"^[A-Z][0-9]{11}[0-9A-Z]$"),
    "nino": _from_regex(r"^[A-Z]{2}[0-9]{6}[A-Z]?$"),
    "postcode": _from_regex(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$"),
    "postcode_pseudo": _from_regex(r"^Z[A-Z][0-9]{2} ?[0-9][A-Z]{2}$"),
    "uprn": _from_regex(r"^0{0,3}[0-9]{1,14}(\.0)?$"),
    "usrn": _from_regex(r"^0{0,3}[0-9]{1,10}(\.0)?$"),
    "gss": _from_regex(r"^[A-Z][0-9]{7,9}$"),
    "ods": _from_regex(r"^[A-Z0-9]{2,7}$"),
    "urn": _from_regex(r"^[0-9]{5,7}(\.0)?$"),
    "laestab": _from_regex(r"^[0-9]{3}[/ -]?[0-9]{3,5}$"),
    "cqc_location_id": _from_regex(r"^[0-2]-?[0-9]{0,11}$"),
}


def identifier_values(kind: str) -> st.SearchStrategy[str]:
    base = VALID[kind]
    return st.one_of(
        base,
        mutated(base),
        messy(base),
        SHAPED[kind],
        st.text(alphabet=DIGITS + "ABEGIOQSZabez -./+\u00a0\u0663\u0130\u0131", max_size=16),
        st.text(max_size=12),
    )


# The identifier types ---------------------------------------------------------------------------


def test_every_identifier_type_is_defined_with_its_rules_in_order() -> None:
    assert set(IDENTIFIER_TYPES) == set(EXPECTED_RULES)
    for name, kind in IDENTIFIER_TYPES.items():
        assert kind.name == name
        assert tuple(rule.id for rule in kind.rules()) == EXPECTED_RULES[name]
        assert kind.label
        assert kind.example
        assert kind.description


@pytest.mark.parametrize("name", sorted(EXPECTED_RULES))
def test_personal_flags(name: str) -> None:
    assert IDENTIFIER_TYPES[name].personal is (name in PERSONAL)


@pytest.mark.parametrize("name", sorted(EXPECTED_RULES))
def test_each_types_example_is_valid(name: str) -> None:
    kind = IDENTIFIER_TYPES[name]
    _, first = identifier_outcomes(name, [kind.example])
    assert first == [None]
    identifiers.validate_identifier(name, kind.example)


def all_rules() -> list[Rule]:
    rules = [rule for kind in IDENTIFIER_TYPES.values() for rule in kind.rules()]
    rules += list(IDENTIFIER_TYPES["gss"].rules(IdentifierOptions(("local_authority",))))
    for fmt in checks.DATE_FORMATS:
        rules += date_rules(fmt, excel_serial=True) + datetime_rules(fmt)
    return rules


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.id)
def test_messages_say_which_value_and_how_to_fix_it(rule: Rule) -> None:
    assert rule.message.startswith("{value} ")
    assert rule.message.count("{") == rule.message.count("}") == 1
    assert rule.severity == "error"
    # A fix or an example: every message says what to do.
    assert re.search(r"like |check |format the column|must be", rule.message), rule.message


# Rules that run one Python function per column (never per value) over Polars Series, because
# that is measured faster than any pure expression: see nhs_check_digit_fails.
WHOLE_COLUMN_RULES = {"nhs_number_check_digit"}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.id)
def test_rules_are_pure_polars_and_never_null(rule: Rule) -> None:
    expr = rule.fails(pl.col("v"))
    if rule.id not in WHOLE_COLUMN_RULES:
        assert "python_udf" not in str(expr)
    frame = pl.DataFrame(
        {"v": [None, "", "x", "12.5", "1e3", " 12", "2001-02-30", "\u0663"]},
        schema={"v": pl.String},
    )
    result = frame.select(expr.alias("fails"))["fails"]
    assert result.dtype == pl.Boolean
    assert result.null_count() == 0
    assert result[0] is False  # null is for the engine's required check, not a rule


def test_the_check_digit_runs_once_per_column_not_per_value(monkeypatch) -> None:
    from accord.standards import checks

    calls = []
    real = checks._nhs_check_digit_fails
    monkeypatch.setattr(
        checks, "_nhs_check_digit_fails", lambda values: calls.append(len(values)) or real(values)
    )
    values = ["9434765919", "9434765918", "x"] * 1000
    fails = pl.DataFrame({"v": values}).select(checks.nhs_check_digit_fails(pl.col("v")))
    assert calls == [3000]
    assert fails.to_series().to_list() == [False, True, False] * 1000


@pytest.mark.parametrize("name", sorted(EXPECTED_RULES))
def test_clean_is_pure_polars_and_keeps_nulls(name: str) -> None:
    expr = IDENTIFIER_TYPES[name].clean(pl.col("v"))
    assert "python_udf" not in str(expr)
    out = pl.DataFrame({"v": [None, "a"]}, schema={"v": pl.String}).select(expr)
    assert out.to_series()[0] is None


@pytest.mark.parametrize(
    ("kind", "value", "rule_id"),
    [
        ("nhs_number", "4010232137", None),
        ("nhs_number", "9434765919", None),
        ("nhs_number", "943 476 5919", None),
        ("nhs_number", "943-476-5919", None),
        ("nhs_number", "4010232138", "nhs_number_check_digit"),
        ("nhs_number", "9.43E+09", "nhs_number_scientific"),
        ("nhs_number", "401023213", "nhs_number_format"),
        ("nhs_number", "40102321370", "nhs_number_format"),
        ("nhs_number", "401023213X", "nhs_number_format"),
        ("upn", "P207000016049", None),
        ("upn", "B207000016049", "upn_check_letter"),
        ("upn", "Q207000016049", "upn_check_letter"),  # the documentation's wrong letter
        ("upn", "I207000016049", "upn_format"),  # I, O and S are never check letters
        ("nino", "AB123456C", None),
        ("nino", "ab 12 34 56 c", None),
        ("nino", "BG123456A", "nino_prefix"),
        ("nino", "GB123456A", "nino_prefix"),
        ("nino", "NK123456A", "nino_prefix"),
        ("nino", "AO123456A", "nino_prefix"),  # O never second
        ("nino", "DA123456A", "nino_prefix"),
        ("nino", "ZZ123456T", "nino_format"),  # Faker's synthetic form
        ("nino", "AB123456E", "nino_format"),
        ("nino", "AB123456", "nino_format"),  # legacy blank suffix: not accepted
        ("postcode", "SW1A 2AA", None),
        ("postcode", "sw1a2aa", None),
        ("postcode", "GIR 0AA", None),
        ("postcode", "ZZ99 3VZ", "postcode_format"),
        ("postcode", "SW1A", "postcode_format"),
        ("postcode", "QA1 1AA", "postcode_format"),  # Q never first
        ("postcode", "M1 1AC", "postcode_format"),  # C never in the inward code
        ("postcode_pseudo", "ZZ99 3VZ", None),
        ("postcode_pseudo", "zz993cz", None),
        ("postcode_pseudo", "SW1A 2AA", None),
        ("postcode_pseudo", "ZZ98 3VZ", "postcode_pseudo_format"),
        ("uprn", "100023336956", None),
        ("uprn", "100023336956.0", None),
        ("uprn", "1.00023E+11", "uprn_scientific"),
        ("uprn", "1000233369561", "uprn_range"),
        ("uprn", "0", "uprn_range"),
        ("uprn", "12.5", "uprn_format"),
        ("uprn", "-5", "uprn_format"),
        ("usrn", "99999999", None),
        ("usrn", "100000000", "usrn_range"),
        ("usrn", "2.15E+07", "usrn_scientific"),
        ("gss", "E07000110", None),
        ("gss", "L99999999", "gss_format"),
        ("ods", "A81001", None),
        ("urn", "100000", None),
        ("urn", "10000", "urn_format"),
        ("laestab", "881/2000", None),
        ("laestab", "881200", "laestab_format"),
        ("cqc_location_id", "1-123456789", None),
        ("cqc_location_id", "1123456789", "cqc_location_id_format"),
    ],
)
def test_known_values(kind: str, value: str, rule_id: str | None) -> None:
    _, first = identifier_outcomes(kind, [value])
    assert first == [rule_id]


def test_the_first_broken_rule_is_the_one_reported() -> None:
    # 9.43E+09 also breaks the format rule; the engine reports the scientific-notation one.
    kind = IDENTIFIER_TYPES["nhs_number"]
    frame = pl.DataFrame({"v": ["9.43E+09"]}).select(
        *(r.fails(kind.clean(pl.col("v"))).alias(r.id) for r in kind.rules())
    )
    assert frame.row(0, named=True) == {
        "nhs_number_scientific": True,
        "nhs_number_format": True,
        "nhs_number_check_digit": False,
    }


@pytest.mark.parametrize(
    "value",
    ["12.5", "1e3", " 12", "+12", "0x1F", "1_000", "١٢", "12 ", "1,000", "1.0e3", "inf", "NaN"],
)
@pytest.mark.parametrize("kind", ["uprn", "usrn", "urn", "laestab", "nhs_number"])
def test_lenient_number_forms_never_pass_as_whole_numbers(kind: str, value: str) -> None:
    """§A.5: a cast would take '12.5', '1e3' or ' 12' as integers. Only digits pass."""
    cleaned, first = identifier_outcomes(kind, [value])
    if first == [None]:
        # Only whitespace around digits may be cleaned away: " 12" and "12 " are 12.
        assert value.strip() == "12"
        assert cleaned == ["12"]


def test_gss_entities_limit_the_prefixes() -> None:
    values = ["E07000110", "E05000001", "S12000036", "E92000001", "X1"]
    _, first = identifier_outcomes("gss", values, ("local_authority",))
    assert first == [None, "gss_entity", None, "gss_entity", "gss_format"]
    rule = IDENTIFIER_TYPES["gss"].rules(IdentifierOptions(("ward", "region")))[1]
    assert rule.message == (
        "{value} is not the code of a ward or region: it should start with one of "
        "E05, W05, S13, N08, E12 — check the column holds the right kind of area"
    )


def test_an_unknown_gss_entity_is_refused_when_the_rules_are_built() -> None:
    with pytest.raises(ValueError, match="not a GSS entity"):
        IDENTIFIER_TYPES["gss"].rules(IdentifierOptions(("galaxy",)))


def test_code_list_rule() -> None:
    rule = checks.code_list_rule("lad25")
    assert rule.id == "code_list"
    assert "LAD25" in rule.message
    frame = pl.DataFrame({"v": ["E08000039", "E08000019", None]})
    assert frame.select(rule.fails(pl.col("v"))).to_series().to_list() == [False, True, False]


def test_a_standard_can_name_every_identifier_type() -> None:
    descriptor = {
        "name": "every-identifier",
        "version": "1.0",
        "title": "Every identifier",
        "fields": [
            {"name": name, "accord": {"identifier": name}} for name in sorted(IDENTIFIER_TYPES)
        ]
        + [
            {
                "name": "ltla_cd",
                "accord": {
                    "identifier": "gss",
                    "gssEntities": ["local_authority"],
                    "codeList": "lad25",
                },
            }
        ],
    }
    standard = parse_standard(descriptor)
    assert {f.name for f in standard.fields if f.personal} == PERSONAL
    assert standard.personal_data


# Property: the vectorised rules agree with the scalar validators ---------------------------------


@pytest.mark.parametrize("kind", sorted(EXPECTED_RULES))
@PROPERTY
@given(data=st.data())
def test_vectorised_rules_agree_with_the_scalar_validator(kind: str, data: st.DataObject) -> None:
    values = data.draw(st.lists(identifier_values(kind), min_size=1, max_size=30))
    assert_identifier_parity(kind, values)


@pytest.mark.parametrize("entities", [("local_authority",), ("ward", "region"), ("icb",)])
@PROPERTY
@given(data=st.data())
def test_vectorised_gss_entity_rules_agree_with_the_scalar_validator(
    entities: tuple[str, ...], data: st.DataObject
) -> None:
    values = data.draw(st.lists(identifier_values("gss"), min_size=1, max_size=30))
    assert_identifier_parity("gss", values, entities)


@pytest.mark.parametrize("kind", sorted(EXPECTED_RULES))
@PROPERTY
@given(data=st.data())
def test_vectorised_cleaning_is_idempotent(kind: str, data: st.DataObject) -> None:
    values = data.draw(st.lists(identifier_values(kind), min_size=1, max_size=30))
    clean = IDENTIFIER_TYPES[kind].clean
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    once = frame.select(clean(pl.col("v"))).to_series()
    twice = pl.DataFrame({"v": once}).select(clean(pl.col("v"))).to_series()
    assert once.to_list() == twice.to_list()


@PROPERTY
@given(nhs_numbers(), st.integers(0, 9), st.integers(1, 9))
def test_the_check_digit_catches_every_single_digit_substitution(
    number: str, position: int, shift: int
) -> None:
    wrong = str((int(number[position]) + shift) % 10)
    typo = number[:position] + wrong + number[position + 1 :]
    _, first = identifier_outcomes("nhs_number", [number, typo])
    assert first == [None, "nhs_number_check_digit"]


@PROPERTY
@given(nhs_numbers(), st.integers(0, 8))
def test_the_check_digit_catches_every_adjacent_transposition(number: str, i: int) -> None:
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    _, first = identifier_outcomes("nhs_number", [swapped])
    assert first == [None if swapped == number else "nhs_number_check_digit"]


@PROPERTY
@given(st.lists(nhs_numbers(prefix="999"), min_size=1, max_size=20))
def test_synthetic_nhs_numbers_in_the_999_range_pass(numbers: list[str]) -> None:
    cleaned, first = identifier_outcomes("nhs_number", numbers)
    assert first == [None] * len(numbers)
    assert cleaned == numbers


# Dates ------------------------------------------------------------------------------------------


def date_outcomes(
    values: Sequence[str | None], fmt: str, excel_serial: bool
) -> tuple[list[str | None], list[str | None], list[date | None]]:
    """ISO text, first broken rule (the rules take the text as typed) and pl.Date, per value."""
    cleaned, _ = run_rules(values, lambda e: clean_date(e, fmt, excel_serial=excel_serial), ())
    _, first = run_rules(values, lambda e: e, date_rules(fmt, excel_serial=excel_serial))
    parsed = (
        pl.DataFrame({"v": list(values)}, schema={"v": pl.String})
        .select(parse_date_expr(pl.col("v"), fmt, excel_serial=excel_serial))
        .to_series()
        .to_list()
    )
    return cleaned, first, parsed


@pytest.mark.parametrize(
    ("value", "fmt", "serial", "expected"),
    [
        ("2024-03-01", "default", False, "2024-03-01"),
        (" 2024-03-01 ", "default", False, "2024-03-01"),
        ("01/03/2024", "default", False, "date_format"),
        ("2001-02-30", "default", False, "date_real"),
        ("2001-13-01", "default", False, "date_real"),
        ("2000-02-29", "default", False, "2000-02-29"),
        ("1900-02-29", "default", False, "date_real"),
        ("20010101", "any", True, "date_format"),
        ("unknown", "any", True, "date_format"),
        ("2001-1-5", "any", False, "date_format"),
        ("01/03/2024", "any", False, "2024-03-01"),
        ("1/3/2024", "any", False, "2024-03-01"),
        ("01-03-2024", "any", False, "2024-03-01"),
        ("01.03.2024", "any", False, "2024-03-01"),
        ("01/03-2024", "any", False, "date_format"),
        ("31/12/2001", "any", False, "2001-12-31"),
        ("12/31/2001", "any", False, "date_real"),  # US month-first: there is no month 31
        ("01/03/24", "any", False, "date_format"),  # 2-digit year
        ("2024-03-01 00:00:00", "any", False, "2024-03-01"),
        ("2024-03-01 00:00:00", "default", False, "date_format"),
        ("2024-03-01 09:30:00", "any", False, "date_format"),
        ("45352", "any", True, "2024-03-01"),
        ("45352.0", "any", True, "2024-03-01"),
        ("45352", "any", False, "date_format"),
        ("45352", "default", True, "date_format"),  # serials only with fmt "any"
        ("1", "any", True, "1900-01-01"),
        ("59", "any", True, "1900-02-28"),
        ("60", "any", True, "date_real"),  # Excel's 29 February 1900 never was
        ("61", "any", True, "1900-03-01"),
        ("0", "any", True, "date_real"),
        ("45352.5", "any", True, "date_format"),
        ("0000-01-01", "default", False, "date_real"),
        ("0999-12-31", "default", False, "0999-12-31"),
    ],
)
def test_dates(value: str, fmt: str, serial: bool, expected: str) -> None:
    cleaned, first, parsed = date_outcomes([value], fmt, serial)
    if expected.startswith("date_"):
        assert first == [expected]
        assert cleaned == [None]
        assert parsed == [None]
    else:
        assert first == [None]
        assert cleaned == [expected]
        assert parsed == [date.fromisoformat(expected)]


def test_date_rules_never_give_null_and_skip_nulls() -> None:
    cleaned, first, parsed = date_outcomes([None, ""], "any", True)
    assert cleaned == [None, None]
    assert first == [None, "date_format"]
    assert parsed == [None, None]


@pytest.mark.parametrize(
    ("fmt", "serial", "words"),
    [("default", False, "YYYY-MM-DD"), ("any", False, "DD/MM/YYYY"), ("any", True, "Excel")],
)
def test_date_format_messages_name_the_accepted_forms(fmt: str, serial: bool, words: str) -> None:
    assert words in date_rules(fmt, excel_serial=serial)[0].message


@st.composite
def date_texts(draw: st.DrawFn) -> str:
    day = draw(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
    y, m, d = day.year, day.month, day.day
    if draw(st.booleans()):  # century years and 29 February, where leap-year rules bite
        y = draw(st.sampled_from([1600, 1700, 1900, 2000, 2023, 2024, 2100, 2400]))
        m, d = 2, draw(st.sampled_from([28, 29, 30]))
    layout = draw(st.integers(0, 10))
    if layout == 10:  # ISO with a part unpadded, as in "2001-1-5"
        month = f"{m % 9 + 1}" if draw(st.booleans()) else f"{m:02}"
        day_text = f"{d % 9 + 1}" if draw(st.booleans()) else f"{d:02}"
        text = f"{y:04}-{month}-{day_text}"
    elif layout == 0:
        text = f"{y:04}-{m:02}-{d:02}"
    elif layout == 1:
        text = f"{y:04}-{m:02}-{d:02}{draw(st.sampled_from([' ', 'T']))}00:00:00"
    elif layout == 2:
        sep = draw(st.sampled_from(["/", "-", ".", " ", "/-"]))
        text = f"{d:02}{sep}{m:02}{sep[0]}{y:04}"
    elif layout == 3:
        text = f"{d}/{m}/{y:04}"
    elif layout == 4:
        text = f"{m:02}/{d:02}/{y:04}"  # US month-first
    elif layout == 5:
        text = f"{d:02}/{m:02}/{y % 100:02}"  # 2-digit year
    elif layout == 6:  # maybe not a real day
        text = f"{y:04}-{m:02}-{d:02}"
        if draw(st.booleans()):
            text = f"{y:04}-{draw(st.integers(0, 13)):02}-{draw(st.integers(0, 32)):02}"
    elif layout == 7:
        text = str(draw(st.integers(0, 100_000))) + draw(st.sampled_from(["", ".0", ".5"]))
    elif layout == 8:
        text = f"{y:04}{m:02}{d:02}"
    else:
        text = draw(st.text(alphabet="0123456789/-.: T", max_size=20))
    return draw(SPACES) + text + draw(SPACES)


DATE_FORMS = [("default", False), ("any", False), ("any", True)]


def assert_date_parity(values: Sequence[str], fmt: str, serial: bool) -> None:
    cleaned, first, parsed = date_outcomes(values, fmt, serial)
    for value, clean, rule_id, as_date in zip(values, cleaned, first, parsed, strict=True):
        result, code = scalar_outcome(identifiers.parse_date, value, fmt=fmt, excel_serial=serial)
        assert code == rule_id, f"{value!r}: scalar {code}, vectorised {rule_id}"
        if code is None:
            assert isinstance(result, date)
            assert clean == result.isoformat()
            assert as_date == result


@pytest.mark.parametrize(("fmt", "serial"), DATE_FORMS)
def test_dates_agree_on_awkward_values(fmt: str, serial: bool) -> None:
    awkward = ["60", "0", "2001-02-30", "29/02/2000", "\u0663/1/2000", "2024-03-01\n", "\x1c1"]
    assert_date_parity(awkward, fmt, serial)


@pytest.mark.parametrize(("fmt", "serial"), DATE_FORMS)
@PROPERTY
@given(data=st.data())
def test_vectorised_dates_agree_with_parse_date(
    fmt: str, serial: bool, data: st.DataObject
) -> None:
    values = data.draw(st.lists(st.one_of(date_texts(), st.text(max_size=12)), max_size=30))
    assert_date_parity(values, fmt, serial)


# Datetimes --------------------------------------------------------------------------------------


def datetime_outcomes(
    values: Sequence[str | None], fmt: str
) -> tuple[list[str | None], list[str | None]]:
    cleaned, _ = run_rules(values, lambda e: clean_datetime(e, fmt), ())
    _, first = run_rules(values, lambda e: e, datetime_rules(fmt))
    return cleaned, first


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        ("2025-03-01T09:00:00+00:00", "default", "2025-03-01T09:00:00+00:00"),
        ("2025-03-01T09:00:00Z", "default", "2025-03-01T09:00:00+00:00"),
        ("2025-03-01 09:00:00", "default", "2025-03-01T09:00:00"),
        ("2025-03-01T09:00", "default", "2025-03-01T09:00:00"),
        ("2025-03-01T09:00:00.25+0100", "default", "2025-03-01T09:00:00.250000+01:00"),
        ("2025-03-01T09:00-05", "default", "2025-03-01T09:00:00-05:00"),
        ("01/03/2025 09:00", "default", "datetime_format"),
        ("01/03/2025 9:05", "any", "2025-03-01T09:05:00"),
        ("01.03.2025 09:05:30", "any", "2025-03-01T09:05:30"),
        ("2025-03-01", "any", "datetime_format"),
        ("2025-02-29T09:00", "default", "datetime_real"),
        ("2025-03-01T24:00", "default", "datetime_real"),
        ("2025-03-01T23:60", "default", "datetime_real"),
        ("2025-03-01T23:59:60", "default", "datetime_real"),
        ("2025-03-01T09:00+24:00", "default", "datetime_real"),
        ("31/02/2025 10:00", "any", "datetime_real"),
    ],
)
def test_datetimes(value: str, fmt: str, expected: str) -> None:
    cleaned, first = datetime_outcomes([value], fmt)
    if expected.startswith("datetime_"):
        assert (first, cleaned) == ([expected], [None])
    else:
        assert (first, cleaned) == ([None], [expected])


@st.composite
def datetime_texts(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    layout = draw(st.integers(0, 4))
    if layout == 0:
        text = moment.isoformat(
            sep=draw(st.sampled_from(["T", " "])),
            timespec=draw(st.sampled_from(["minutes", "seconds", "milliseconds", "microseconds"])),
        )
        text += draw(st.sampled_from(["", "Z", "+01:00", "-0530", "+01", "+24:00", "+23:60"]))
    elif layout == 1:
        sep = draw(st.sampled_from(["/", "-", "."]))
        hour = draw(st.sampled_from([moment.hour, moment.hour, 23, 24, 25]))
        minute = draw(st.sampled_from([moment.minute, moment.minute, 59, 60]))
        text = f"{moment.day}{sep}{moment.month:02}{sep}{moment.year:04} {hour}:"
        text += f"{minute:02}" + draw(st.sampled_from(["", f":{moment.second:02}", ":60"]))
    elif layout == 2:
        text = (
            f"{moment.year:04}-{draw(st.integers(0, 13)):02}-{draw(st.integers(0, 32)):02}T"
            f"{draw(st.integers(0, 25)):02}:{draw(st.integers(0, 61)):02}"
        )
    elif layout == 3:
        text = moment.date().isoformat()
    else:
        text = draw(st.text(alphabet="0123456789/-.:+ TZ", max_size=25))
    return draw(SPACES) + text + draw(SPACES)


@pytest.mark.parametrize("fmt", ["default", "any"])
@PROPERTY
@given(data=st.data())
def test_vectorised_datetimes_agree_with_parse_datetime(fmt: str, data: st.DataObject) -> None:
    values = data.draw(st.lists(st.one_of(datetime_texts(), st.text(max_size=12)), max_size=30))
    cleaned, first = datetime_outcomes(values, fmt)
    for value, clean, rule_id in zip(values, cleaned, first, strict=True):
        result, code = scalar_outcome(identifiers.parse_datetime, value, fmt=fmt)
        assert code == rule_id, f"{value!r}: scalar {code}, vectorised {rule_id}"
        if code is None:
            assert clean is not None
            assert datetime.fromisoformat(clean) == result
            assert (datetime.fromisoformat(clean).tzinfo is None) == (
                isinstance(result, datetime) and result.tzinfo is None
            )


def test_an_unknown_date_format_is_refused() -> None:
    with pytest.raises(ValueError, match="'default' or 'any'"):
        date_rules("us", excel_serial=False)
    with pytest.raises(ValueError, match="'default' or 'any'"):
        identifiers.parse_date("2024-03-01", fmt="us")


def test_rules_run_over_a_large_column() -> None:
    """A coarse guard that the rules stay vectorised: 200k NHS numbers in one select."""
    import time

    values = ["9434765919", "4010232138", "abc", "943 476 5919"] * 50_000
    kind = IDENTIFIER_TYPES["nhs_number"]
    frame = pl.DataFrame({"v": values})
    start = time.perf_counter()
    out = frame.select(
        *(rule.fails(kind.clean(pl.col("v"))).alias(rule.id) for rule in kind.rules())
    )
    elapsed = time.perf_counter() - start
    assert out["nhs_number_check_digit"].sum() == 50_000
    assert out["nhs_number_format"].sum() == 50_000
    assert elapsed < 10
