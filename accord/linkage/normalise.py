"""Standardising the values record linkage compares, as Polars expressions (no Django).

Every function takes and returns an expression, so a whole column is cleaned in one
vectorised pass. Values that cannot be trusted (a failed check digit, a UPRN mangled by a
spreadsheet) become null: linkage then treats them as missing rather than as evidence.
"""

from __future__ import annotations

import polars as pl

# Weights of the NHS number's first nine digits in its modulus 11 check.
_NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_UPRN_MAX = 999_999_999_999
_POSTCODE = r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$"
_OTHER_POSTCODE = r"^[A-Z0-9]{3,10}$"

# Address words written short, and what they are written out as. Matched as whole words.
ADDRESS_ABBREVIATIONS: dict[str, str] = {
    "RD": "ROAD",
    "ST": "STREET",
    "STR": "STREET",
    "AVE": "AVENUE",
    "AV": "AVENUE",
    "LN": "LANE",
    "DR": "DRIVE",
    "DRV": "DRIVE",
    "CL": "CLOSE",
    "CT": "COURT",
    "CRT": "COURT",
    "CRES": "CRESCENT",
    "CRESC": "CRESCENT",
    "CR": "CRESCENT",
    "PL": "PLACE",
    "SQ": "SQUARE",
    "GDNS": "GARDENS",
    "GDN": "GARDEN",
    "GRN": "GREEN",
    "GRO": "GROVE",
    "GR": "GROVE",
    "TER": "TERRACE",
    "TERR": "TERRACE",
    "TCE": "TERRACE",
    "PK": "PARK",
    "PDE": "PARADE",
    "HSE": "HOUSE",
    "HO": "HOUSE",
    "BLDG": "BUILDING",
    "FLT": "FLAT",
    "APT": "FLAT",
    "APARTMENT": "FLAT",
    "MT": "MOUNT",
    "HWY": "HIGHWAY",
    "WY": "WAY",
    "RDG": "RIDGE",
    "EST": "ESTATE",
    "CTR": "CENTRE",
    "CEN": "CENTRE",
    "STN": "STATION",
    "UPR": "UPPER",
    "LWR": "LOWER",
    "GT": "GREAT",
    "LT": "LITTLE",
    "NTH": "NORTH",
    "STH": "SOUTH",
}


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.len_bytes() > 0).then(expr).otherwise(None)


def normalise_nhs_number(expr: pl.Expr) -> pl.Expr:
    """Ten digits with a valid modulus 11 check digit, else null.

    Spaces and dashes are removed first ("943 476 5919" and "943-476-5919" are fine).
    """
    digits = expr.cast(pl.String).str.replace_all(r"[\s\-]", "")
    valid_shape = digits.str.contains(r"^[0-9]{10}$")
    total = pl.sum_horizontal(
        [
            digits.str.slice(i, 1).cast(pl.Int64, strict=False) * weight
            for i, weight in enumerate(_NHS_WEIGHTS)
        ]
    )
    check = 11 - total % 11
    check = pl.when(check == 11).then(0).otherwise(check)
    last = digits.str.slice(9, 1).cast(pl.Int64, strict=False)
    ok = valid_shape & (check != 10) & (check == last)
    return pl.when(ok).then(digits).otherwise(None)


def normalise_uprn(expr: pl.Expr) -> pl.Expr:
    """A UPRN as its digits without leading zeros (1 to 999999999999), else null.

    A trailing ".0" (a spreadsheet showing a whole number as a decimal) is dropped; anything
    in scientific notation ("1.00E+11") has lost digits and becomes null, as does anything
    else that is not a whole number.
    """
    text = expr.cast(pl.String).str.strip_chars().str.replace(r"\.0+$", "")
    whole = text.str.contains(r"^[0-9]{1,15}$")
    number = pl.when(whole).then(text).otherwise(None).cast(pl.UInt64, strict=False)
    in_range = (number >= 1) & (number <= _UPRN_MAX)
    return pl.when(in_range).then(number.cast(pl.String)).otherwise(None)


def normalise_postcode(expr: pl.Expr) -> pl.Expr:
    """Upper case with one space before the inward code ("sw1a1aa" → "SW1A 1AA").

    A postcode of another country (3 to 10 letters and digits, at least one a digit: "2618",
    "90210", "1012 AB") is kept as one upper case token without spaces or punctuation, so
    records can still be compared and blocked on it; it has no sector or district. Anything
    else becomes null.
    """
    compact = expr.cast(pl.String).str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    return (
        pl.when(compact.str.contains(_POSTCODE))
        .then(compact.str.replace(_POSTCODE, "$1 $2"))
        .when(compact.str.contains(_OTHER_POSTCODE) & compact.str.contains("[0-9]"))
        .then(compact)
        .otherwise(None)
    )


def normalise_address(expr: pl.Expr) -> pl.Expr:
    """Upper case, punctuation out, common abbreviations written out, numbers kept.

    "Flat 2, 10 High St." → "FLAT 2 10 HIGH STREET"; "12 St. John's Rd" → "12 SAINT JOHNS
    ROAD" (ST straight after a number or at the start is Saint, elsewhere Street).
    """
    text = (
        expr.cast(pl.String)
        .str.to_uppercase()
        .str.replace_all("['\u2019`]", "")
        .str.replace_all(r"[^A-Z0-9]+", " ")
        # "10A" and "10 A" are written both ways: keep a house letter joined to its number.
        .str.replace_all(r"\b([0-9]+) ([A-Z])\b", "${1}${2}")
        .str.strip_chars()
    )
    text = text.str.replace(r"^ST ", "SAINT ").str.replace_all(
        r"(\b[0-9]+[A-Z]? )ST ", "${1}SAINT "
    )
    words = text.str.split(" ").list.eval(pl.element().replace(ADDRESS_ABBREVIATIONS))
    return _blank_to_null(words.list.join(" "))


def normalise_name(expr: pl.Expr) -> pl.Expr:
    """Upper case letters, with hyphens and apostrophes as in the name, spaces collapsed."""
    text = (
        expr.cast(pl.String)
        .str.to_uppercase()
        .str.replace_all(r"[^A-Z\-' ]", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars(" -'")
    )
    return _blank_to_null(text)


def normalise_sex(expr: pl.Expr) -> pl.Expr:
    """ "M", "F" or null (unknown, not stated and anything else)."""
    first = expr.cast(pl.String).str.strip_chars().str.to_uppercase().str.slice(0, 1)
    return pl.when(first.is_in(["M", "F"])).then(first).otherwise(None)
