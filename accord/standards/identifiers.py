"""Validators for UK public-sector identifiers used on organisations.

Rules from shared/reference/identifiers-and-codes.md. Each validator normalises the value and
returns it, or raises ``ValidationError`` with a message that says what is wrong and how to fix
it. Data standards (a later issue) reuse these for columns.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

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


def _compact(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def validate_gss_code(value: str, *, sector: str | None = None) -> str:
    code = _compact(value)
    if not GSS_PATTERN.match(code):
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
    return code


def validate_ods_code(value: str) -> str:
    code = _compact(value)
    if not ODS_PATTERN.match(code):
        raise ValidationError(
            "Enter an NHS ODS code of 3 to 6 letters and digits, like QKS or RXX.",
            code="ods_format",
        )
    return code


def validate_ico_registration(value: str) -> str:
    code = _compact(value)
    if not ICO_PATTERN.match(code):
        raise ValidationError(
            "Enter the ICO registration number as Z followed by 7 characters, like Z1234567 "
            "or ZA123456.",
            code="ico_format",
        )
    return code
