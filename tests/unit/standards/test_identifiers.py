"""Identifier validators, one value at a time: GSS area codes, NHS ODS codes, ICO registration
numbers, NHS numbers, UPNs, National Insurance numbers, postcodes, UPRNs and USRNs, school and
care identifiers, dates and datetimes.

Rules from shared/reference/identifiers-and-codes.md. The vectorised forms are held to these in
test_checks.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accord.organisations.enums import Sector
from accord.standards import checks
from accord.standards.codelists import UnknownCodeList
from accord.standards.identifiers import (
    GSS_PREFIXES_BY_SECTOR,
    SCALAR_VALIDATORS,
    excel_serial_to_date,
    format_nhs_number,
    format_nino,
    nhs_check_digit,
    normalise_postcode,
    parse_date,
    parse_datetime,
    upn_check_letter,
    validate_cqc_location_id,
    validate_gss_code,
    validate_ico_registration,
    validate_identifier,
    validate_laestab,
    validate_nhs_number,
    validate_nino,
    validate_ods_code,
    validate_postcode,
    validate_upn,
    validate_uprn,
    validate_urn,
    validate_usrn,
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


# Shared helpers for the identifiers below ---------------------------------------------------------

PROPERTY = settings(max_examples=200, deadline=None)


def _raises(check: Callable[..., object], value: str, code: str, **kwargs: object) -> str:
    """Assert the validator refuses the value with this code; return the message."""
    with pytest.raises(ValidationError) as excinfo:
        check(value, **kwargs)
    assert excinfo.value.code == code
    message = _message(excinfo)
    assert message.strip()
    return message


# NHS number --------------------------------------------------------------------------------------


def _reference_nhs_valid(number: str) -> bool:
    """The NHS Data Dictionary algorithm, written out step by step as the reference has it."""
    if not re.fullmatch(r"[0-9]{10}", number):
        return False
    total = sum(int(number[i]) * weight for i, weight in enumerate(range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(number[9])


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("4010232137", "4010232137"),
        ("9434765919", "9434765919"),
        ("943 476 5919", "9434765919"),
        ("943-476-5919", "9434765919"),
        (" 943\u00a0476\u00a05919 ", "9434765919"),
        ("943\u2013476\u20135919", "9434765919"),  # en dashes pasted from a document
        ("9434765919.0", "9434765919"),  # a spreadsheet's number cell
    ],
)
def test_nhs_numbers_are_normalised(given_value: str, expected: str) -> None:
    assert validate_nhs_number(given_value) == expected


def test_nhs_numbers_display_3_3_4() -> None:
    assert format_nhs_number("9434765919") == "943 476 5919"
    assert format_nhs_number("943-476-5919") == "943 476 5919"
    with pytest.raises(ValidationError):
        format_nhs_number("4010232138")


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ("4010232138", "nhs_number_check_digit"),
        ("1000000010", "nhs_number_check_digit"),  # the check would be 10: never issued
        ("1000000019", "nhs_number_check_digit"),
        ("401023213", "nhs_number_format"),
        ("40102321370", "nhs_number_format"),
        ("401023213A", "nhs_number_format"),
        ("", "nhs_number_format"),
        ("9.43E+09", "nhs_number_scientific"),
        ("9.434766E+09", "nhs_number_scientific"),
        ("4010232137.5", "nhs_number_format"),
        ("\u0664010232137", "nhs_number_format"),  # an Arabic-Indic digit
    ],
)
def test_bad_nhs_numbers_are_refused_with_a_clear_message(bad: str, code: str) -> None:
    message = _raises(validate_nhs_number, bad, code)
    if bad:
        assert message.startswith(bad)
    if code == "nhs_number_check_digit":
        assert "typing error" in message
    if code == "nhs_number_scientific":
        assert "scientific notation" in message
        assert "format the column as text" in message


def test_the_check_digit_of_ten_is_never_issued() -> None:
    assert nhs_check_digit("100000001") is None
    assert nhs_check_digit("401023213") == 7


@st.composite
def valid_nhs_numbers(draw: st.DrawFn, prefix: str = "") -> str:
    nine = prefix + draw(
        st.text(alphabet="0123456789", min_size=9 - len(prefix), max_size=9 - len(prefix))
    )
    check = nhs_check_digit(nine)
    if check is None:
        nine = nine[:8] + str((int(nine[8]) + 1) % 10)
        check = nhs_check_digit(nine)
    assert check is not None
    return nine + str(check)


@PROPERTY
@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_nhs_validation_matches_the_reference_algorithm(number: str) -> None:
    result, error = _outcome(validate_nhs_number, number)
    assert (error is None) == _reference_nhs_valid(number)
    assert result == (number if error is None else None)


@PROPERTY
@given(valid_nhs_numbers(), st.integers(0, 9), st.integers(1, 9))
def test_every_single_digit_substitution_is_caught(number: str, position: int, shift: int) -> None:
    typo = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    _raises(validate_nhs_number, typo, "nhs_number_check_digit")


@PROPERTY
@given(valid_nhs_numbers(prefix="999"))
def test_synthetic_nhs_numbers_in_the_999_range_are_valid(number: str) -> None:
    assert validate_nhs_number(number) == number
    assert format_nhs_number(number).replace(" ", "") == number


# UPN ---------------------------------------------------------------------------------------------


def test_the_documented_upn_example_is_p_not_q() -> None:
    """Arbor and Juniper's help says B207000016049 should have Q; the sum is 266, mod 23 is 13,
    which is P (python-stdnum agrees)."""
    assert upn_check_letter("207000016049") == "P"
    assert validate_upn("P207000016049") == "P207000016049"
    _raises(validate_upn, "Q207000016049", "upn_check_letter")
    _raises(validate_upn, "B207000016049", "upn_check_letter")


def test_upns_are_normalised() -> None:
    assert validate_upn(" p207 000 016 049 ") == "P207000016049"


def test_temporary_upns_end_in_a_letter() -> None:
    body = "20700001604A"
    upn = upn_check_letter(body) + body
    assert validate_upn(upn) == upn
    _raises(validate_upn, upn[:-1] + "I", "upn_format")  # I, O, S never used


@pytest.mark.parametrize(
    "bad", ["", "P20700001604", "P2070000160499", "1207000016049", "O207000016049", "P20700001604S"]
)
def test_malformed_upns(bad: str) -> None:
    assert "letter followed by 12 digits" in _raises(validate_upn, bad, "upn_format")


# National Insurance number ----------------------------------------------------------------------


def test_ninos_are_normalised_and_displayed() -> None:
    assert validate_nino(" ab 12 34 56 c ") == "AB123456C"
    assert format_nino("ab123456c") == "AB 12 34 56 C"
    assert validate_nino("OA123456D") == "OA123456D"  # O may come first


@pytest.mark.parametrize("prefix", ["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"])
def test_unused_nino_prefixes_are_refused(prefix: str) -> None:
    _raises(validate_nino, f"{prefix}123456A", "nino_prefix")


@pytest.mark.parametrize("letter", list("DFIQUV"))
def test_letters_never_used_in_a_nino_prefix(letter: str) -> None:
    _raises(validate_nino, f"{letter}A123456A", "nino_prefix")
    _raises(validate_nino, f"A{letter}123456A", "nino_prefix")


def test_o_is_never_the_second_letter_of_a_nino() -> None:
    _raises(validate_nino, "AO123456A", "nino_prefix")


@pytest.mark.parametrize(
    "bad", ["", "AB123456", "AB123456E", "ZZ123456T", "AB12345C", "A1234567C", "11 a1 11 11"]
)
def test_malformed_ninos(bad: str) -> None:
    assert "AB 12 34 56 C" in _raises(validate_nino, bad, "nino_format")


# Postcode ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("sw1a2aa", "SW1A 2AA"),
        ("SW1A 2AA", "SW1A 2AA"),
        ("  sw1a   2aa ", "SW1A 2AA"),
        ("m11ae", "M1 1AE"),
        ("b338th", "B33 8TH"),
        ("cr26xh", "CR2 6XH"),
        ("dn551pt", "DN55 1PT"),
        ("w1a0ax", "W1A 0AX"),
        ("ec1a1bb", "EC1A 1BB"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_postcodes_are_normalised(given_value: str, expected: str) -> None:
    assert normalise_postcode(given_value) == expected
    assert validate_postcode(given_value) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "SW1A",  # outward code only
        "SW1A 2A",
        "QA1 1AA",  # Q never first
        "AI1 1AA",  # I never second
        "A1L 1AA",  # L not a third-position letter
        "AA1C 1AA",  # C not a fourth-position letter
        "M1 1AC",  # C never in the inward code
        "M1 1AO",
        "SW1A-2AA",
        "BFPO 1234",  # the broader government pattern, not the strict one
        "ZZ99 3VZ",  # pseudo-postcodes only when asked
    ],
)
def test_malformed_postcodes(bad: str) -> None:
    message = _raises(validate_postcode, bad, "postcode_format")
    assert "use the full postcode, like SW1A 2AA" in message


def test_pseudo_postcodes_only_when_asked() -> None:
    assert validate_postcode("zz993vz", allow_pseudo=True) == "ZZ99 3VZ"
    assert validate_postcode("ZZ99 3CZ", allow_pseudo=True) == "ZZ99 3CZ"
    assert validate_postcode("SW1A 2AA", allow_pseudo=True) == "SW1A 2AA"
    message = _raises(validate_postcode, "ZZ98 3VZ", "postcode_pseudo_format", allow_pseudo=True)
    assert "ZZ99 3VZ" in message


# UPRN and USRN -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("100023336956", "100023336956"),
        ("100023336956.0", "100023336956"),
        (" 100 023 336 956 ", "100023336956"),
        ("000100023336956", "100023336956"),
        ("1", "1"),
        ("999999999999", "999999999999"),
    ],
)
def test_uprns_are_normalised(given_value: str, expected: str) -> None:
    assert validate_uprn(given_value) == expected


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ("1.00023E+11", "uprn_scientific"),
        ("1E+11", "uprn_scientific"),
        ("1000000000000", "uprn_range"),
        ("0", "uprn_range"),
        ("0.0", "uprn_range"),
        ("12.5", "uprn_format"),
        ("1e3", "uprn_scientific"),
        ("-12", "uprn_format"),
        ("N/A", "uprn_format"),
        ("", "uprn_format"),
    ],
)
def test_bad_uprns(bad: str, code: str) -> None:
    _raises(validate_uprn, bad, code)


def test_usrns() -> None:
    assert validate_usrn("21500123") == "21500123"
    assert validate_usrn("99999999.0") == "99999999"
    _raises(validate_usrn, "100000000", "usrn_range")
    _raises(validate_usrn, "2.15E+07", "usrn_scientific")
    _raises(validate_usrn, "abc", "usrn_format")


# GSS codes with kinds of area and code lists -----------------------------------------------------


def test_gss_codes_can_be_limited_to_kinds_of_area() -> None:
    assert validate_gss_code("e07000110", entities=["local_authority"]) == "E07000110"
    message = _raises(validate_gss_code, "E05000001", "gss_entity", entities=["local_authority"])
    assert "E06, E07, E08, E09, W06, S12, N09" in message
    assert validate_gss_code("E54000008", entities=["icb", "local_health_board"]) == "E54000008"
    with pytest.raises(ValueError, match="not a GSS entity"):
        validate_gss_code("E07000110", entities=["galaxy"])


def test_gss_codes_can_be_checked_against_a_code_list() -> None:
    assert validate_gss_code("E08000039", code_list="lad25") == "E08000039"
    message = _raises(validate_gss_code, "E08000019", "code_list", code_list="lad25")
    assert "LAD25" in message
    with pytest.raises(UnknownCodeList):
        validate_gss_code("E08000039", code_list="lad99")


@pytest.mark.parametrize("entity", sorted(checks.GSS_ENTITY_PREFIXES))
def test_every_entity_accepts_its_own_prefixes(entity: str) -> None:
    for prefix in checks.GSS_ENTITY_PREFIXES[entity]:
        assert validate_gss_code(f"{prefix}000001", entities=[entity]) == f"{prefix}000001"


# School and care identifiers ---------------------------------------------------------------------


def test_school_urns() -> None:
    assert validate_urn(" 100000 ") == "100000"
    assert validate_urn("100000.0") == "100000"
    for bad in ["10000", "1000000", "10000A", ""]:
        _raises(validate_urn, bad, "urn_format")


def test_laestabs() -> None:
    assert validate_laestab("8812000") == "8812000"
    assert validate_laestab("881/2000") == "8812000"
    assert validate_laestab("881 2000") == "8812000"
    for bad in ["881200", "88120000", "881/200", "88/12000", "881-2000"]:
        _raises(validate_laestab, bad, "laestab_format")


def test_cqc_location_ids() -> None:
    assert validate_cqc_location_id(" 1-123456789 ") == "1-123456789"
    for bad in ["1123456789", "1-", "2-123456789", "1-12345678X", "RXX"]:
        _raises(validate_cqc_location_id, bad, "cqc_location_id_format")


def test_validate_identifier_covers_every_identifier_type() -> None:
    assert set(SCALAR_VALIDATORS) == set(checks.IDENTIFIER_TYPES)
    for name, kind in checks.IDENTIFIER_TYPES.items():
        assert validate_identifier(name, kind.example)
    with pytest.raises(ValueError, match="not an identifier type"):
        validate_identifier("passport", "123")


def test_file_messages_quote_the_value() -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_identifier("ods", "RX")
    assert _message(excinfo).startswith("RX is not an NHS ODS code")
    with pytest.raises(ValidationError) as excinfo:
        validate_identifier("gss", "E0700011")
    assert _message(excinfo).startswith("E0700011 is not a GSS code")
    with pytest.raises(ValidationError) as excinfo:
        validate_identifier("nhs_number", "  ")
    assert _message(excinfo).startswith("A blank value is not an NHS number")


# Normalisation is idempotent ----------------------------------------------------------------------

VALID_EXAMPLES: dict[str, st.SearchStrategy[str]] = {
    "nhs_number": valid_nhs_numbers(),
    "upn": st.text(alphabet="0123456789", min_size=12, max_size=12).map(
        lambda body: upn_check_letter(body) + body
    ),
    "nino": st.from_regex(r"\A[A-CEGHJ-PR-TW-Y][A-CEGHJ-NPR-TW-Y][0-9]{6}[A-D]\Z").filter(
        lambda nino: nino[:2] not in checks.NINO_UNUSED_PREFIXES
    ),
    "postcode": st.from_regex(re.compile(checks.POSTCODE_PATTERN), fullmatch=True),
    "postcode_pseudo": st.from_regex(re.compile(checks.POSTCODE_PSEUDO_PATTERN), fullmatch=True),
    "uprn": st.integers(1, 999_999_999_999).map(str),
    "usrn": st.integers(1, 99_999_999).map(str),
    "gss": st.from_regex(re.compile(checks.GSS_PATTERN), fullmatch=True),
    "ods": st.from_regex(re.compile(checks.ODS_PATTERN), fullmatch=True),
    "urn": st.from_regex(re.compile(checks.URN_PATTERN), fullmatch=True),
    "laestab": st.from_regex(re.compile(checks.LAESTAB_PATTERN), fullmatch=True),
    "cqc_location_id": st.from_regex(re.compile(checks.CQC_LOCATION_ID_PATTERN), fullmatch=True),
}


def _mess_up(value: str, data: st.DataObject) -> str:
    spaces = st.text(alphabet=" \t\u00a0", max_size=2)
    return "".join(
        (c.lower() if data.draw(st.booleans()) else c) + data.draw(spaces) for c in value
    )


@pytest.mark.parametrize("kind", sorted(VALID_EXAMPLES))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_normalisation_is_idempotent(kind: str, data: st.DataObject) -> None:
    value = data.draw(VALID_EXAMPLES[kind])
    messy = value if kind == "cqc_location_id" else _mess_up(value, data)
    once = validate_identifier(kind, messy)
    assert validate_identifier(kind, once) == once
    if kind.startswith("postcode"):
        assert normalise_postcode(once) == once


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=12))
def test_postcode_normalisation_is_idempotent_on_any_text(value: str) -> None:
    once = normalise_postcode(value)
    assert normalise_postcode(once) == once


# Dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, date(1900, 1, 1)),
        (2, date(1900, 1, 2)),
        (31, date(1900, 1, 31)),
        (59, date(1900, 2, 28)),
        (61, date(1900, 3, 1)),
        (25569, date(1970, 1, 1)),
        (36526, date(2000, 1, 1)),
        (45352, date(2024, 3, 1)),
        (2958465, date(9999, 12, 31)),
    ],
)
def test_excel_serials(serial: int, expected: date) -> None:
    assert excel_serial_to_date(serial) == expected


@pytest.mark.parametrize("serial", [0, 60, -1])
def test_excel_serials_that_are_no_real_day(serial: int) -> None:
    with pytest.raises(ValueError, match="not a real day"):
        excel_serial_to_date(serial)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("01/03/2024", date(2024, 3, 1)),
        ("1/3/2024", date(2024, 3, 1)),
        ("01-03-2024", date(2024, 3, 1)),
        ("01.03.2024", date(2024, 3, 1)),
        ("31/12/2001", date(2001, 12, 31)),
        ("29/02/2000", date(2000, 2, 29)),
        ("2024-03-01 00:00:00", date(2024, 3, 1)),
        (" 2024-03-01\n", date(2024, 3, 1)),
        ("45352", date(2024, 3, 1)),
        ("45352.0", date(2024, 3, 1)),
        ("61", date(1900, 3, 1)),
        ("1", date(1900, 1, 1)),
    ],
)
def test_dates_in_any_accepted_form(text: str, expected: date) -> None:
    assert parse_date(text, fmt="any", excel_serial=True) == expected


@pytest.mark.parametrize(
    ("text", "fmt", "serial", "code"),
    [
        ("2001-02-30", "default", False, "date_real"),
        ("2001-13-01", "default", False, "date_real"),
        ("1900-02-29", "any", False, "date_real"),
        ("30/02/2001", "any", False, "date_real"),
        ("12/31/2001", "any", False, "date_real"),  # US month-first
        ("01/03/24", "any", True, "date_format"),  # 2-digit year
        ("1/3/24", "any", True, "date_format"),
        ("20010101", "any", True, "date_format"),
        ("unknown", "any", True, "date_format"),
        ("", "any", True, "date_format"),
        ("01/03/2024", "default", False, "date_format"),
        ("2024-3-1", "default", False, "date_format"),
        ("45352", "any", False, "date_format"),
        ("45352", "default", True, "date_format"),
        ("60", "any", True, "date_real"),
        ("0", "any", True, "date_real"),
        ("March 1, 2024", "any", True, "date_format"),
        ("2024-03-01T10:00:00", "any", False, "date_format"),
        ("\u0662024-03-01", "default", False, "date_format"),
    ],
)
def test_bad_dates(text: str, fmt: str, serial: bool, code: str) -> None:
    message = _raises(parse_date, text, code, fmt=fmt, excel_serial=serial)
    if text:
        assert message.startswith(text.strip())


def test_date_messages_say_what_to_type() -> None:
    assert "YYYY-MM-DD" in _raises(parse_date, "1/3/2024", "date_format")
    assert "DD/MM/YYYY" in _raises(parse_date, "junk", "date_format", fmt="any")
    assert "day first" in _raises(parse_date, "12/31/2001", "date_real", fmt="any")


@PROPERTY
@given(st.dates(min_value=date(1, 1, 1)))
def test_every_real_date_round_trips(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day.day}/{day.month}/{day.year:04}", fmt="any") == day
    assert parse_date(f"{day.day:02}.{day.month:02}.{day.year:04}", fmt="any") == day


@PROPERTY
@given(st.dates(min_value=date(1900, 3, 1), max_value=date(2173, 10, 13)))
def test_excel_serials_count_days_from_1899_12_30(day: date) -> None:
    serial = (day - date(1899, 12, 30)).days
    assert parse_date(str(serial), fmt="any", excel_serial=True) == day


# Datetimes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("2025-03-01T09:00:00+00:00", "default", datetime(2025, 3, 1, 9, tzinfo=UTC)),
        ("2025-03-01T09:00:00Z", "default", datetime(2025, 3, 1, 9, tzinfo=UTC)),
        (
            "2025-03-01T09:00+01:00",
            "default",
            datetime(2025, 3, 1, 9, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("2025-03-01 09:00:00", "default", datetime(2025, 3, 1, 9)),
        ("2025-03-01T09:00:00.5", "default", datetime(2025, 3, 1, 9, 0, 0, 500000)),
        ("01/03/2025 09:00", "any", datetime(2025, 3, 1, 9)),
        ("1/3/2025 9:05:30", "any", datetime(2025, 3, 1, 9, 5, 30)),
    ],
)
def test_datetimes(text: str, fmt: str, expected: datetime) -> None:
    parsed = parse_datetime(text, fmt=fmt)
    assert parsed == expected
    assert (parsed.tzinfo is None) == (expected.tzinfo is None)


@pytest.mark.parametrize(
    ("text", "fmt", "code"),
    [
        ("01/03/2025 09:00", "default", "datetime_format"),
        ("2025-03-01", "default", "datetime_format"),
        ("03/01/2025 09:00 PM", "any", "datetime_format"),
        ("2025-02-30T09:00", "default", "datetime_real"),
        ("2025-03-01T24:00", "default", "datetime_real"),
        ("2025-03-01T09:00+25:00", "default", "datetime_real"),
        ("13/13/2025 09:00", "any", "datetime_real"),
    ],
)
def test_bad_datetimes(text: str, fmt: str, code: str) -> None:
    _raises(parse_datetime, text, code, fmt=fmt)
