"""Validators for UK public-sector identifiers, codes and dates: one value at a time.

Rules from shared/reference/identifiers-and-codes.md. Each validator normalises the value and
returns it, or raises ``ValidationError`` with a message that says what is wrong and how to fix
it, and a ``code``. For the identifier types of :mod:`accord.standards.checks` the code is the id
of the vectorised rule the value breaks first and the message is that rule's message, so a form
and a file upload tell the user the same thing; property tests hold the two implementations to
the same answers.

Regexes are matched with ``re.fullmatch`` (``$`` in Python also matches before a final newline)
and use ``[0-9]``, never ``\\d`` (which matches other scripts' digits).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta, timezone

from django.core.exceptions import ValidationError

from . import checks

GSS_PATTERN = re.compile(r"^[EWSNK][0-9]{8}$")
ODS_PATTERN = re.compile(r"^[A-Z0-9]{3,6}$")
ICO_PATTERN = re.compile(r"^Z[A-Z0-9][0-9]{6}$")

# GSS entity prefixes that an organisation of each sector may carry (its own area's code).
GSS_PREFIXES_BY_SECTOR: dict[str, tuple[str, ...]] = {
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

_WHITESPACE = re.compile(checks.WHITESPACE_PATTERN)
_WHITESPACE_OR_DASH = re.compile(checks.WHITESPACE_OR_DASH_PATTERN)


def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_SPREADSHEET_DECIMAL = _pattern(checks.SPREADSHEET_DECIMAL_PATTERN)
_SCIENTIFIC = _pattern(checks.SCIENTIFIC_PATTERN)
_LEADING_ZEROS = _pattern(checks.LEADING_ZEROS_PATTERN)
_NHS_NUMBER = _pattern(checks.NHS_NUMBER_PATTERN)
_UPN = _pattern(checks.UPN_PATTERN)
_NINO_SHAPE = _pattern(checks.NINO_SHAPE_PATTERN)
_NINO_PREFIX = _pattern(checks.NINO_PREFIX_PATTERN)
_POSTCODE = _pattern(checks.POSTCODE_PATTERN)
_POSTCODE_PSEUDO = _pattern(checks.POSTCODE_PSEUDO_PATTERN)
_DIGITS = _pattern(checks.DIGITS_PATTERN)
_URN = _pattern(checks.URN_PATTERN)
_LAESTAB = _pattern(checks.LAESTAB_PATTERN)
_LAESTAB_SLASH = _pattern(checks.LAESTAB_SLASH_PATTERN)
_CQC_LOCATION_ID = _pattern(checks.CQC_LOCATION_ID_PATTERN)


def _fullmatch(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.fullmatch(text) is not None


def _compact(value: str) -> str:
    """Whitespace removed anywhere; ASCII letters upper-cased (see ``checks._compact``)."""
    compact = _WHITESPACE.sub("", value or "")
    return compact.upper() if compact.isascii() else compact


def _compact_number(value: str) -> str:
    return _SPREADSHEET_DECIMAL.sub(r"\1", _WHITESPACE.sub("", value or ""), count=1)


def _as_typed(value: str) -> str:
    typed = (value or "").strip(checks.WHITESPACE)
    return typed or "A blank value"


def _fail(rule_id: str, value: str, message: str | None = None) -> ValidationError:
    template = message if message is not None else checks.MESSAGES[rule_id]
    return ValidationError(template.replace("{value}", _as_typed(value)), code=rule_id)


# NHS number --------------------------------------------------------------------------------------


def clean_nhs_number(value: str) -> str:
    compact = _WHITESPACE_OR_DASH.sub("", value or "")
    return _SPREADSHEET_DECIMAL.sub(r"\1", compact, count=1)


def nhs_check_digit(first_nine: str) -> int | None:
    """The modulus 11 check digit for 9 digits, or None where the check would be 10 (never
    issued)."""
    total = sum(int(d) * w for d, w in zip(first_nine, checks.NHS_WEIGHTS, strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


def validate_nhs_number(value: str) -> str:
    """The NHS number as 10 digits, or ValidationError (nhs_number_scientific, _format,
    _check_digit)."""
    number = clean_nhs_number(value)
    if _fullmatch(_SCIENTIFIC, number):
        raise _fail("nhs_number_scientific", value)
    if not _fullmatch(_NHS_NUMBER, number):
        raise _fail("nhs_number_format", value)
    if nhs_check_digit(number[:9]) != int(number[9]):
        raise _fail("nhs_number_check_digit", value)
    return number


def format_nhs_number(value: str) -> str:
    """A valid NHS number for display, 3-3-4: ``943 476 5919``."""
    number = validate_nhs_number(value)
    return f"{number[:3]} {number[3:6]} {number[6:]}"


# UPN ---------------------------------------------------------------------------------------------


def upn_check_letter(body: str) -> str:
    """The check letter for characters 2-13 of a UPN (11 digits and a digit or letter)."""
    total = sum(
        position * (int(char) if char.isdigit() else checks.UPN_ALPHABET.index(char))
        for position, char in enumerate(body, start=2)
    )
    return checks.UPN_ALPHABET[total % 23]


def validate_upn(value: str) -> str:
    """The unique pupil number, upper case, or ValidationError (upn_format, upn_check_letter)."""
    upn = _compact(value)
    if not _fullmatch(_UPN, upn):
        raise _fail("upn_format", value)
    if upn_check_letter(upn[1:]) != upn[0]:
        raise _fail("upn_check_letter", value)
    return upn


# National Insurance number ----------------------------------------------------------------------


def validate_nino(value: str) -> str:
    """The NINO, upper case without spaces, or ValidationError (nino_format, nino_prefix)."""
    nino = _compact(value)
    if not _fullmatch(_NINO_SHAPE, nino):
        raise _fail("nino_format", value)
    if _NINO_PREFIX.match(nino) is None or nino[:2] in checks.NINO_UNUSED_PREFIXES:
        raise _fail("nino_prefix", value)
    return nino


def format_nino(value: str) -> str:
    """A valid NINO for display: ``AB 12 34 56 C``."""
    nino = validate_nino(value)
    return f"{nino[:2]} {nino[2:4]} {nino[4:6]} {nino[6:8]} {nino[8]}"


# Postcode ----------------------------------------------------------------------------------------


def normalise_postcode(value: str) -> str:
    """Upper case, whitespace removed, one space before the inward code: ``sw1a2aa`` ->
    ``SW1A 2AA``. Does not check the format."""
    compact = _compact(value)
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def validate_postcode(value: str, *, allow_pseudo: bool = False) -> str:
    """The normalised postcode in the strict BS 7666 format, or ValidationError
    (postcode_format; postcode_pseudo_format when ``allow_pseudo`` accepts NHS ZZ99
    pseudo-postcodes)."""
    postcode = normalise_postcode(value)
    compact = postcode.replace(" ", "")
    if _fullmatch(_POSTCODE, compact):
        return postcode
    if allow_pseudo:
        if _fullmatch(_POSTCODE_PSEUDO, compact):
            return postcode
        raise _fail("postcode_pseudo_format", value)
    raise _fail("postcode_format", value)


# UPRN and USRN -----------------------------------------------------------------------------------


def clean_whole_number(value: str) -> str:
    """Whitespace and a spreadsheet's ``.0`` removed, then leading zeros (``"0"`` stays)."""
    return _LEADING_ZEROS.sub(r"\1", _compact_number(value), count=1)


def _validate_whole_number(value: str, kind: str, max_digits: int) -> str:
    number = clean_whole_number(value)
    if _fullmatch(_SCIENTIFIC, number):
        raise _fail(f"{kind}_scientific", value)
    if not _fullmatch(_DIGITS, number):
        raise _fail(f"{kind}_format", value)
    if len(number) > max_digits or number == "0":
        raise _fail(f"{kind}_range", value)
    return number


def validate_uprn(value: str) -> str:
    """The UPRN (1 to 999,999,999,999) as unpadded digits, or ValidationError (uprn_scientific,
    uprn_format, uprn_range). A spreadsheet's trailing ``.0`` and leading zeros are dropped."""
    return _validate_whole_number(value, "uprn", checks.UPRN_MAX_DIGITS)


def validate_usrn(value: str) -> str:
    """The USRN (1 to 99,999,999) as unpadded digits, or ValidationError (usrn_scientific,
    usrn_format, usrn_range)."""
    return _validate_whole_number(value, "usrn", checks.USRN_MAX_DIGITS)


# GSS codes ---------------------------------------------------------------------------------------


def validate_gss_code(
    value: str,
    *,
    sector: str | None = None,
    entities: Iterable[str] = (),
    code_list: str | None = None,
) -> str:
    """The GSS code, upper case, or ValidationError.

    Codes: ``gss_format``; ``gss_sector`` / ``gss_not_applicable`` when ``sector`` (a kind of
    organisation) is given; ``gss_entity`` when ``entities`` (kinds of area, keys of
    ``checks.GSS_ENTITY_PREFIXES``) are given; ``code_list`` when the code is not in the
    bundled ``code_list``.
    """
    code = _compact(value)
    if not GSS_PATTERN.fullmatch(code):
        raise ValidationError(
            "Enter a GSS code as a country letter (E, W, S, N or K) followed by 8 digits, "
            "like E07000110.",
            code="gss_format",
        )
    allowed = GSS_PREFIXES_BY_SECTOR.get(sector or "")
    if sector and allowed is None:
        raise ValidationError(
            "This kind of organisation does not have a GSS area code; leave it blank.",
            code="gss_not_applicable",
        )
    if allowed and code[:3] not in allowed:
        raise ValidationError(
            f"A GSS code starting {code[:3]} is not for this kind of organisation: "
            f"expected one starting {' or '.join(allowed)}.",
            code="gss_sector",
        )
    kinds = tuple(entities)
    if kinds and code[:3] not in checks.gss_prefixes(kinds):
        raise _fail("gss_entity", value, checks.gss_entity_message(kinds))
    if code_list is not None:
        from . import codelists

        if code not in codelists.load(code_list).codes:
            raise _fail("code_list", value, checks.code_list_rule(code_list).message)
    return code


# Organisation identifiers ------------------------------------------------------------------------


def validate_ods_code(value: str) -> str:
    code = _compact(value)
    if not ODS_PATTERN.fullmatch(code):
        raise ValidationError(
            "Enter an NHS ODS code of 3 to 6 letters and digits, like QKS or RXX.",
            code="ods_format",
        )
    return code


def validate_ico_registration(value: str) -> str:
    code = _compact(value)
    if not ICO_PATTERN.fullmatch(code):
        raise ValidationError(
            "Enter the ICO registration number as Z followed by 7 characters, like Z1234567 "
            "or ZA123456.",
            code="ico_format",
        )
    return code


def validate_urn(value: str) -> str:
    """A DfE school URN: 6 digits, or ValidationError (urn_format)."""
    urn = _compact_number(value)
    if not _fullmatch(_URN, urn):
        raise _fail("urn_format", value)
    return urn


def validate_laestab(value: str) -> str:
    """A DfE LAESTAB as 7 digits (``881/2000`` -> ``8812000``), or ValidationError
    (laestab_format)."""
    laestab = _LAESTAB_SLASH.sub(r"\1\2", _compact_number(value), count=1)
    if not _fullmatch(_LAESTAB, laestab):
        raise _fail("laestab_format", value)
    return laestab


def validate_cqc_location_id(value: str) -> str:
    """A CQC location ID (``1-`` and digits), or ValidationError (cqc_location_id_format)."""
    location = _compact(value)
    if not _fullmatch(_CQC_LOCATION_ID, location):
        raise _fail("cqc_location_id_format", value)
    return location


# By identifier type ------------------------------------------------------------------------------


def _validate_ods_for_files(value: str) -> str:
    # The file rule's message (with the value) rather than the form's; same code and answer.
    try:
        return validate_ods_code(value)
    except ValidationError:
        raise _fail("ods_format", value) from None


def _validate_gss_for_files(value: str, entities: tuple[str, ...]) -> str:
    code = _compact(value)
    if not GSS_PATTERN.fullmatch(code):
        raise _fail("gss_format", value)
    return validate_gss_code(code, entities=entities)


SCALAR_VALIDATORS: dict[str, Callable[[str], str]] = {
    "nhs_number": validate_nhs_number,
    "upn": validate_upn,
    "nino": validate_nino,
    "postcode": validate_postcode,
    "postcode_pseudo": lambda value: validate_postcode(value, allow_pseudo=True),
    "uprn": validate_uprn,
    "usrn": validate_usrn,
    "gss": lambda value: _validate_gss_for_files(value, ()),
    "ods": _validate_ods_for_files,
    "urn": validate_urn,
    "laestab": validate_laestab,
    "cqc_location_id": validate_cqc_location_id,
}


def validate_identifier(kind: str, value: str, *, gss_entities: Iterable[str] = ()) -> str:
    """Validate one value as identifier type ``kind`` (a key of ``checks.IDENTIFIER_TYPES``),
    with the file rules' codes and messages."""
    if kind == "gss":
        return _validate_gss_for_files(value, tuple(gss_entities))
    try:
        validator = SCALAR_VALIDATORS[kind]
    except KeyError:
        raise ValueError(f"'{kind}' is not an identifier type Accord checks.") from None
    return validator(value)


# Dates -------------------------------------------------------------------------------------------

_ISO_DATE = _pattern(checks.ISO_DATE_PATTERN)
_ISO_MIDNIGHT = _pattern(checks.ISO_MIDNIGHT_PATTERN)
_UK_DATES = tuple(_pattern(p) for p in checks.UK_DATE_PATTERNS)
_EXCEL_SERIAL = _pattern(checks.EXCEL_SERIAL_PATTERN)
_ISO_DATETIME = _pattern(checks.ISO_DATETIME_PATTERN)
_UK_DATETIMES = tuple(_pattern(p) for p in checks.UK_DATETIME_PATTERNS)
_EXCEL_EPOCH = date(1899, 12, 30)  # serials from 61
_EXCEL_EPOCH_BEFORE_LEAP_DAY = date(1899, 12, 31)  # serials 1-59


def _date_format_message(fmt: str, excel_serial: bool) -> str:
    # The same choice as checks.date_rules makes.
    if fmt == "default":
        return checks.DATE_MESSAGES["date_format_default"]
    if excel_serial:
        return checks.DATE_MESSAGES["date_format_any_serial"]
    return checks.DATE_MESSAGES["date_format_any"]


def excel_serial_to_date(serial: int) -> date:
    """A date from an Excel serial day number (1900 date system): 1 is 1900-01-01.

    Raises ValueError for 0 and for 60, the 29 February 1900 Excel counts but that never was.
    """
    if serial < 1 or serial == checks.EXCEL_FICTITIOUS_LEAP_DAY:
        raise ValueError(f"Excel serial {serial} is not a real day.")
    if serial < checks.EXCEL_FICTITIOUS_LEAP_DAY:
        return _EXCEL_EPOCH_BEFORE_LEAP_DAY + timedelta(days=serial)
    return _EXCEL_EPOCH + timedelta(days=serial)


def parse_date(text: str, *, fmt: str = "default", excel_serial: bool = False) -> date:
    """A date from text, or ValidationError (date_format, date_real).

    ``fmt="default"`` takes ISO ``YYYY-MM-DD`` only. ``fmt="any"`` also takes UK day-first dates
    (``DD/MM/YYYY``, ``D/M/YYYY``, ``DD-MM-YYYY``, ``DD.MM.YYYY``) and ``YYYY-MM-DD 00:00:00``
    (a spreadsheet date cell read as text), and with ``excel_serial`` Excel serial day numbers
    (``45352`` or ``45352.0`` is 2024-03-01; 60 is refused: 29 February 1900 never was);
    ``excel_serial`` does nothing with ``fmt="default"``. US month-first dates and 2-digit
    years are never accepted.
    """
    if fmt not in checks.DATE_FORMATS:
        raise ValueError(f"A date format must be 'default' or 'any', not {fmt!r}.")
    trimmed = (text or "").strip(checks.WHITESPACE)
    patterns = (_ISO_DATE,) if fmt == "default" else (_ISO_DATE, _ISO_MIDNIGHT, *_UK_DATES)
    for pattern in patterns:
        found = pattern.fullmatch(trimmed)
        if found:
            try:
                return date(int(found["y"]), int(found["m"]), int(found["d"]))
            except ValueError:
                raise _fail("date_real", text, checks.date_real_message(fmt)) from None
    if excel_serial and fmt == "any":
        found = _EXCEL_SERIAL.fullmatch(trimmed)
        if found:
            try:
                return excel_serial_to_date(int(found["n"]))
            except ValueError:
                raise _fail("date_real", text, checks.date_real_message(fmt)) from None
    raise _fail("date_format", text, _date_format_message(fmt, excel_serial))


def parse_datetime(text: str, *, fmt: str = "default") -> datetime:
    """A datetime from text, or ValidationError (datetime_format, datetime_real).

    ``fmt="default"`` takes ISO 8601 ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` (a space may stand for
    the ``T``) with an optional offset (``Z``, ``+01``, ``+0100``, ``+01:00``); the result is
    aware when an offset was given and naive otherwise. ``fmt="any"`` also takes UK day-first
    ``DD/MM/YYYY HH:MM[:SS]`` (or ``-`` or ``.`` between the date's parts).
    """
    if fmt not in checks.DATE_FORMATS:
        raise ValueError(f"A datetime format must be 'default' or 'any', not {fmt!r}.")
    trimmed = (text or "").strip(checks.WHITESPACE)
    patterns = (_ISO_DATETIME,) if fmt == "default" else (_ISO_DATETIME, *_UK_DATETIMES)
    for pattern in patterns:
        found = pattern.fullmatch(trimmed)
        if found is None:
            continue
        parts = found.groupdict()
        try:
            tzinfo = _offset(parts.get("tz"))
            fraction = parts.get("f")
            return datetime(
                int(parts["y"]),
                int(parts["m"]),
                int(parts["d"]),
                int(parts["h"]),
                int(parts["mi"]),
                int(parts["s"] or 0),
                int(fraction.ljust(6, "0")) if fraction else 0,
                tzinfo=tzinfo,
            )
        except ValueError:
            raise _fail("datetime_real", text, checks.DATE_MESSAGES["datetime_real"]) from None
    raise _fail("datetime_format", text, checks.DATE_MESSAGES[f"datetime_format_{fmt}"])


def _offset(tz: str | None) -> timezone | None:
    if tz is None:
        return None
    if tz == "Z":
        return UTC
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"{tz} is not a UTC offset.")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if tz[0] == "-" else delta)
