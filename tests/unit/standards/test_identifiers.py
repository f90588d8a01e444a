"""Identifier validators: GSS area codes, NHS ODS codes and ICO registration numbers.

Rules from shared/reference/identifiers-and-codes.md §2.6 and §2.8.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from accord.organisations.enums import Sector
from accord.standards.identifiers import (
    GSS_PREFIXES_BY_SECTOR,
    validate_gss_code,
    validate_ico_registration,
    validate_ods_code,
)

ASCII_ODS = re.compile(r"[A-Z0-9]{3,6}")

SECTORS_WITH_GSS = sorted(GSS_PREFIXES_BY_SECTOR)
SECTORS_WITHOUT_GSS = sorted(set(Sector.values) - set(GSS_PREFIXES_BY_SECTOR))
ALL_PREFIXES = sorted({p for prefixes in GSS_PREFIXES_BY_SECTOR.values() for p in prefixes})


def _error_code(excinfo: pytest.ExceptionInfo[ValidationError]) -> str | None:
    return excinfo.value.code


def _outcome(
    check: Callable[..., str], *args: object, **kwargs: object
) -> tuple[str | None, ValidationError | None]:
    """What a validator did with a value: the normalised code, or the ValidationError raised.
    Anything else it raises fails the test."""
    try:
        return check(*args, **kwargs), None
    except ValidationError as error:
        return None, error


def _message(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(excinfo.value.messages)


# GSS: format and normalisation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("E07000110", "E07000110"),
        ("e07000110", "E07000110"),
        ("  E07000110  ", "E07000110"),
        ("E07 000 110", "E07000110"),
        ("e 0 7 0 0 0 1 1 0", "E07000110"),
        ("E07000110\n", "E07000110"),
        ("\tW06000015", "W06000015"),
        ("E07\u00a0000110", "E07000110"),  # a no-break space pasted from a spreadsheet
        ("s12000036", "S12000036"),
        ("N09000003", "N09000003"),
        ("K04000001", "K04000001"),
    ],
)
def test_gss_codes_are_normalised(given_value: str, expected: str) -> None:
    assert validate_gss_code(given_value) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "E0700011",  # 7 digits
        "E070001100",  # 9 digits
        "X07000110",  # not a country letter
        "L99999999",  # Channel Islands pseudo-code: not an area code an organisation has
        "M99999999",  # Isle of Man pseudo-code
        "EE7000110",
        "E07-000-110",
        "E07O00110",  # letter O for zero
        "07000110E",
        "E07000110E",
    ],
)
def test_malformed_gss_codes_are_refused_with_a_clear_message(bad: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_gss_code(bad)
    assert _error_code(excinfo) == "gss_format"
    message = _message(excinfo)
    assert "GSS code" in message
    assert "8 digits" in message
    assert "E07000110" in message  # an example of the right shape


def test_without_a_sector_any_country_letter_is_accepted() -> None:
    for letter in "EWSNK":
        assert validate_gss_code(f"{letter}12345678") == f"{letter}12345678"


def test_a_blank_sector_means_no_sector_rule() -> None:
    assert validate_gss_code("E92000001", sector="") == "E92000001"
    assert validate_gss_code("E92000001", sector=None) == "E92000001"


# GSS: sector prefix rules ----------------------------------------------------------------------


def test_the_prefix_table_matches_the_reference() -> None:
    assert GSS_PREFIXES_BY_SECTOR == {
        "county_council": ("E10",),
        "district_council": ("E07",),
        "unitary_authority": ("E06", "W06", "S12", "N09"),
        "metropolitan_borough": ("E08",),
        "london_borough": ("E09",),
        "welsh_principal_council": ("W06",),
        "scottish_council": ("S12",),
        "ni_council": ("N09",),
        "combined_authority": ("E47",),
        "icb": ("E54",),
        "health_board": ("W11", "S08"),
    }
    # Every key is a real sector.
    assert set(GSS_PREFIXES_BY_SECTOR) <= set(Sector.values)


@pytest.mark.parametrize(
    ("sector", "prefix"),
    [(sector, prefix) for sector in SECTORS_WITH_GSS for prefix in GSS_PREFIXES_BY_SECTOR[sector]],
)
def test_each_sector_accepts_its_own_prefixes(sector: str, prefix: str) -> None:
    code = f"{prefix}000042"
    assert validate_gss_code(code, sector=sector) == code
    assert validate_gss_code(f" {code.lower()} ", sector=sector) == code


@pytest.mark.parametrize(
    ("sector", "prefix"),
    [
        (sector, prefix)
        for sector in SECTORS_WITH_GSS
        for prefix in ALL_PREFIXES
        if prefix not in GSS_PREFIXES_BY_SECTOR[sector]
    ],
)
def test_each_sector_refuses_other_sectors_prefixes(sector: str, prefix: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_gss_code(f"{prefix}000042", sector=sector)
    assert _error_code(excinfo) == "gss_sector"
    message = _message(excinfo)
    assert f"starting {prefix}" in message
    for allowed in GSS_PREFIXES_BY_SECTOR[sector]:
        assert allowed in message


def test_a_sector_refusal_names_every_allowed_prefix() -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_gss_code("E07000110", sector="unitary_authority")
    assert _message(excinfo) == (
        "A GSS code starting E07 is not for this kind of organisation: "
        "expected one starting E06 or W06 or S12 or N09."
    )


def test_a_country_code_is_not_a_council_code() -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_gss_code("E92000001", sector="district_council")
    assert _error_code(excinfo) == "gss_sector"


@pytest.mark.parametrize("sector", SECTORS_WITHOUT_GSS)
def test_sectors_without_gss_codes_refuse_any_code(sector: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_gss_code("E07000110", sector=sector)
    assert _error_code(excinfo) == "gss_not_applicable"
    assert "leave it blank" in _message(excinfo)


def test_an_unknown_sector_is_treated_as_having_no_gss_code() -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_gss_code("E07000110", sector="not_a_sector")
    assert _error_code(excinfo) == "gss_not_applicable"


def test_format_is_checked_before_the_sector() -> None:
    # A malformed code for a sector without GSS codes: the format message is the useful one.
    with pytest.raises(ValidationError) as excinfo:
        validate_gss_code("nonsense", sector="police")
    assert _error_code(excinfo) == "gss_format"


def test_non_ascii_digits_are_not_gss_digits() -> None:
    """E07000110 written with Arabic-Indic digits must not be stored as a GSS code."""
    arabic_indic = "E" + "".join(chr(0x0660 + int(d)) for d in "07000110")
    with pytest.raises(ValidationError):
        validate_gss_code(arabic_indic)


def test_non_ascii_digits_are_not_ico_digits() -> None:
    arabic_indic = "Z1" + "".join(chr(0x0660 + int(d)) for d in "234567")
    with pytest.raises(ValidationError):
        validate_ico_registration(arabic_indic)


# GSS: properties --------------------------------------------------------------------------------

digits = st.text(alphabet="0123456789", min_size=8, max_size=8)
spaces = st.text(alphabet=" \t\n\u00a0", max_size=3)


@st.composite
def messy_gss(draw: st.DrawFn, letters: str = "EWSNK") -> tuple[str, str]:
    """A valid GSS code, and the same code with random case and whitespace around and inside."""
    code = draw(st.sampled_from(letters)) + draw(digits)
    pieces = [draw(spaces)]
    for char in code:
        pieces.append(char.lower() if draw(st.booleans()) else char)
        pieces.append(draw(spaces))
    return code, "".join(pieces)


@given(messy_gss())
def test_any_valid_gss_code_survives_normalise_then_validate(case: tuple[str, str]) -> None:
    code, messy = case
    assert validate_gss_code(messy) == code
    assert validate_gss_code(validate_gss_code(messy)) == code  # idempotent


@given(st.sampled_from(SECTORS_WITH_GSS), st.data())
def test_any_code_with_a_sectors_prefix_validates_for_that_sector(
    sector: str, data: st.DataObject
) -> None:
    prefix = data.draw(st.sampled_from(GSS_PREFIXES_BY_SECTOR[sector]))
    code = prefix + data.draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    assert validate_gss_code(code.lower(), sector=sector) == code


@given(st.text(max_size=30), st.sampled_from([None, "", *Sector.values]))
@example("E07000110", "district_council")
@example("e07 000 110", None)
def test_random_strings_either_validate_or_raise_validation_error(
    value: str, sector: str | None
) -> None:
    result, error = _outcome(validate_gss_code, value, sector=sector)
    if error is not None:
        assert error.code in {"gss_format", "gss_sector", "gss_not_applicable"}
        assert error.messages
        assert all(m.strip() for m in error.messages)
    else:
        assert result is not None
        assert len(result) == 9
        assert result == result.strip().upper()
        assert validate_gss_code(result, sector=sector) == result


# ODS ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("RXX", "RXX"),
        ("rxx", "RXX"),
        (" qks ", "QKS"),
        ("A81001", "A81001"),  # a GP practice
        ("a81 001", "A81001"),
        ("RX1AB", "RX1AB"),
        ("8AJ", "8AJ"),
    ],
)
def test_ods_codes_are_normalised(given_value: str, expected: str) -> None:
    assert validate_ods_code(given_value) == expected


@pytest.mark.parametrize(
    "bad", ["", "RX", "A810011", "RX-X", "RX_1", "R.X.X", "Ä81001", "RXX!", "   "]
)
def test_malformed_ods_codes_are_refused_with_a_clear_message(bad: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_ods_code(bad)
    assert _error_code(excinfo) == "ods_format"
    message = _message(excinfo)
    assert "ODS code" in message
    assert "3 to 6" in message


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=3, max_size=6), spaces)
def test_any_valid_ods_code_survives_normalise_then_validate(code: str, pad: str) -> None:
    assert validate_ods_code(pad + code.lower() + pad) == code
    assert validate_ods_code(code) == code


@given(st.text(max_size=20))
def test_random_strings_never_crash_the_ods_validator(value: str) -> None:
    result, error = _outcome(validate_ods_code, value)
    if error is not None:
        assert error.code == "ods_format"
    else:
        assert result is not None
        assert ASCII_ODS.fullmatch(result)


# ICO ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("Z1234567", "Z1234567"),
        ("z1234567", "Z1234567"),
        ("ZA123456", "ZA123456"),
        (" za 123 456 ", "ZA123456"),
    ],
)
def test_ico_registrations_are_normalised(given_value: str, expected: str) -> None:
    assert validate_ico_registration(given_value) == expected


@pytest.mark.parametrize(
    "bad", ["", "1234567", "Z123456", "Z12345678", "A1234567", "ZAB12345", "Z123456A", "Z-123456"]
)
def test_malformed_ico_registrations_are_refused_with_a_clear_message(bad: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_ico_registration(bad)
    assert _error_code(excinfo) == "ico_format"
    message = _message(excinfo)
    assert "ICO registration number" in message
    assert "Z1234567" in message


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), digits.map(lambda d: d[:6]))
def test_any_valid_ico_registration_survives_normalise_then_validate(
    second: str, rest: str
) -> None:
    code = "Z" + (second[:1] or "1") + rest
    assert validate_ico_registration(" " + code.lower() + " ") == code


@given(st.text(max_size=20))
def test_random_strings_never_crash_the_ico_validator(value: str) -> None:
    result, error = _outcome(validate_ico_registration, value)
    if error is not None:
        assert error.code == "ico_format"
    else:
        assert result is not None
        assert len(result) == 8
        assert result.startswith("Z")
