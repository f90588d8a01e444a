"""Vectorised identifier and date checks: the rules the validation engine compiles a column into.

Each identifier type has a scalar form (in :mod:`accord.standards.identifiers`, for forms and
single values) and a vectorised form here (Polars expressions, for files). Property tests hold
the two to the same answers: a value is valid for the scalar validator exactly when no rule here
fails, the scalar error ``code`` is the id of the first rule that fails, and the scalar result is
what ``clean`` gives.

Contract the engine relies on:

- ``IdentifierType.clean(expr)`` turns the trimmed text a user typed into the canonical form the
  rules test (e.g. NHS number: spaces and hyphens removed; postcode: upper case, one space
  before the inward code). It must be vectorised and null-preserving.
- ``IdentifierType.rules(options)`` is the ordered tuple of :class:`Rule` for that type; the
  engine reports only the first rule a value breaks (format before check digit).
- ``Rule.fails(expr)`` takes the *cleaned* value (Utf8, never blank; may be null) and returns a
  Boolean expression, true where the value breaks the rule, false (never null) elsewhere.
- ``Rule.message`` is plain English with ``{value}`` where the value as the user typed it goes,
  saying what is wrong and how to fix it.

Dates and datetimes are not identifier types: :func:`date_rules` and :func:`datetime_rules`
take the *trimmed text as typed* (not a cleaned value, which is null when invalid), and
:func:`clean_date`, :func:`parse_date_expr` and :func:`clean_datetime` give the canonical form
of the valid ones.

Everything here is a pure Polars expression: no ``map_elements``, no Python per row. A cast of
text to a number or a date only counts where a strict regex has matched first (a lenient cast
alone would let ``12.5``, ``1e3`` or ``" 12"`` through, and Polars' date parse takes
``2024-3-1``), and every ``fails`` ends in ``fill_null(False)``. The expressions are built to
stay fast whether the engine passes a column or a longer expression: few regexes per value and
no large trees of repeated sub-expressions (about 0.05-0.3 s per million values per rule).
Digits are ``[0-9]``, never ``\\d`` (which matches other scripts' digits in both Python and
Rust regexes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import polars as pl

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    id: str
    fails: Callable[[pl.Expr], pl.Expr]
    message: str
    severity: Severity = "error"


@dataclass(frozen=True)
class IdentifierOptions:
    """Per-column options some identifier types take (GSS entity kinds)."""

    gss_entities: tuple[str, ...] = ()


@dataclass(frozen=True)
class IdentifierType:
    name: str
    label: str
    example: str
    personal: bool
    clean: Callable[[pl.Expr], pl.Expr]
    rule_builder: Callable[[IdentifierOptions], tuple[Rule, ...]]
    description: str = ""
    # A regex that only already-clean values match (clean(x) == x): the engine cleans just the
    # values that do not match it, which in most files is almost none.
    canonical: str | None = None

    def rules(self, options: IdentifierOptions | None = None) -> tuple[Rule, ...]:
        return self.rule_builder(options or IdentifierOptions())


# GSS code prefixes by kind of area (identifiers-and-codes.md §2.6).
GSS_ENTITY_PREFIXES: dict[str, tuple[str, ...]] = {
    "output_area": ("E00", "W00", "S00"),
    "lsoa": ("E01", "W01"),
    "data_zone": ("S01",),
    "msoa": ("E02", "W02"),
    "intermediate_zone": ("S02",),
    "parish": ("E04", "W04"),
    "ward": ("E05", "W05", "S13", "N08"),
    "local_authority": ("E06", "E07", "E08", "E09", "W06", "S12", "N09"),
    "upper_tier_authority": ("E06", "E08", "E09", "E10", "W06", "S12", "N09"),
    "county": ("E10",),
    "region": ("E12",),
    "constituency": ("E14", "W07", "S14", "N06"),
    "sub_icb_location": ("E38",),
    "nhs_region": ("E40",),
    "combined_authority": ("E47",),
    "icb": ("E54",),
    "local_health_board": ("W11",),
    "country": ("E92", "W92", "S92", "N92"),
}

# Filled in below by the identifier definitions: name -> IdentifierType.
IDENTIFIER_TYPES: dict[str, IdentifierType] = {}


# Shared text handling --------------------------------------------------------------------------
# Whitespace removed from identifiers, spelled out so Python's ``re`` and Polars' Rust regex
# agree exactly (their ``\s`` differ: Python's includes the ASCII separators \x1c-\x1f).
# Includes the no-break, zero-width and byte-order-mark characters spreadsheets and web pages
# paste in.
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
)
WHITESPACE_PATTERN = f"[{WHITESPACE}]"
# Hyphens and dashes people type or paste between the groups of an NHS number.
DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"
WHITESPACE_OR_DASH_PATTERN = f"[{WHITESPACE}{DASHES}]"
ASCII_PATTERN = r"^[\x00-\x7F]*$"
# An integral number a spreadsheet has written with a decimal part: "100023336956.0".
SPREADSHEET_DECIMAL_PATTERN = r"^([0-9]+)\.0+$"
# A long number Excel has shown in scientific notation: "1.00023E+11".
SCIENTIFIC_PATTERN = r"^[0-9](\.[0-9]+)?[Ee]\+?[0-9]+$"
LEADING_ZEROS_PATTERN = r"^0+([0-9])"

NHS_NUMBER_PATTERN = r"^[0-9]{10}$"
NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
UPN_PATTERN = r"^[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]$"
UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
NINO_SHAPE_PATTERN = r"^[A-Z]{2}[0-9]{6}[A-D]$"
NINO_PREFIX_PATTERN = r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
NINO_UNUSED_PREFIXES = ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ")
POSTCODE_PATTERN = (
    r"^(GIR0AA|[A-PR-UWYZ][0-9][0-9]?[0-9][ABD-HJLNP-UW-Z]{2}"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?[0-9][ABD-HJLNP-UW-Z]{2}"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW][0-9][ABD-HJLNP-UW-Z]{2}"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY][0-9][ABD-HJLNP-UW-Z]{2})$"
)
# The same, over a cleaned postcode (one space before the inward code) or a compact one: a
# single regex pass, where compacting first would copy every value.
POSTCODE_CLEANED_PATTERN = (
    r"^(?:GIR ?0AA|(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)
# NHS pseudo-postcodes (no fixed abode, country not otherwise known): ZZ99 3VZ, ZZ99 3CZ, ...
POSTCODE_PSEUDO_PATTERN = r"^ZZ99[0-9][A-Z]{2}$"
DIGITS_PATTERN = r"^[0-9]+$"
UPRN_MAX_DIGITS = 12
USRN_MAX_DIGITS = 8
GSS_PATTERN = r"^[EWSNK][0-9]{8}$"
ODS_PATTERN = r"^[A-Z0-9]{3,6}$"
URN_PATTERN = r"^[0-9]{6}$"
LAESTAB_PATTERN = r"^[0-9]{7}$"
LAESTAB_SLASH_PATTERN = r"^([0-9]{3})/([0-9]{4})$"
CQC_LOCATION_ID_PATTERN = r"^1-[0-9]+$"


def _matches(expr: pl.Expr, pattern: str) -> pl.Expr:
    """True where the text matches, false where it does not or is null."""
    return expr.str.contains(pattern).fill_null(False)


def _fails_pattern(pattern: str) -> Callable[[pl.Expr], pl.Expr]:
    def fails(expr: pl.Expr) -> pl.Expr:
        return (~expr.str.contains(pattern)).fill_null(False)

    return fails


def _scientific(expr: pl.Expr) -> pl.Expr:
    return _matches(expr, SCIENTIFIC_PATTERN)


def _compact(expr: pl.Expr) -> pl.Expr:
    """Whitespace removed anywhere; ASCII letters upper-cased (non-ASCII text left as it is, so
    that no other script's letter can upper-case into a valid code)."""
    compact = expr.str.replace_all(WHITESPACE_PATTERN, "")
    return (
        pl.when(compact.str.contains(ASCII_PATTERN))
        .then(compact.str.to_uppercase())
        .otherwise(compact)
    )


def _compact_number(expr: pl.Expr) -> pl.Expr:
    """Whitespace removed and a spreadsheet's ``.0`` dropped from a whole number."""
    compact = expr.str.replace_all(WHITESPACE_PATTERN, "")
    return compact.str.replace(SPREADSHEET_DECIMAL_PATTERN, "${1}")


def _digit(expr: pl.Expr, position: int) -> pl.Expr:
    """The digit at a 0-based position as an integer (null if not a digit). Use the result only
    where a digits regex has matched."""
    return expr.str.slice(position, 1).cast(pl.Int32, strict=False)


def _scientific_message(what: str) -> str:
    return (
        "{value} looks like a number Excel has turned into scientific notation — format the "
        f"column as text and type the {what} again"
    )


# NHS number (identifiers-and-codes.md §2.1) -----------------------------------------------------

MESSAGES: dict[str, str] = {
    "nhs_number_scientific": _scientific_message("NHS number"),
    "nhs_number_format": (
        "{value} is not an NHS number: it should be 10 digits, like 943 476 5919"
    ),
    "nhs_number_check_digit": (
        "{value} fails the NHS number check digit — check for a typing error"
    ),
    "upn_format": (
        "{value} is not a unique pupil number: it should be a letter followed by 12 digits "
        "(or 11 digits and a letter), like P207000016049"
    ),
    "upn_check_letter": (
        "{value} has the wrong unique pupil number check letter (the first letter) — check "
        "for a typing error"
    ),
    "nino_format": (
        "{value} is not a National Insurance number: it should be 2 letters, 6 digits and "
        "A, B, C or D, like AB 12 34 56 C"
    ),
    "nino_prefix": (
        "{value} does not start with 2 letters HMRC uses for National Insurance numbers — "
        "check the first two letters for a typing error"
    ),
    "postcode_format": "{value} is not a UK postcode: use the full postcode, like SW1A 2AA",
    "postcode_pseudo_format": (
        "{value} is not a UK postcode: use the full postcode, like SW1A 2AA, or an NHS "
        "pseudo-postcode, like ZZ99 3VZ"
    ),
    "uprn_scientific": _scientific_message("UPRN"),
    "uprn_format": (
        "{value} is not a UPRN: it should be a whole number of up to 12 digits, like 100023336956"
    ),
    "uprn_range": "{value} is not a UPRN: it must be between 1 and 999999999999",
    "usrn_scientific": _scientific_message("USRN"),
    "usrn_format": (
        "{value} is not a USRN: it should be a whole number of up to 8 digits, like 21500123"
    ),
    "usrn_range": "{value} is not a USRN: it must be between 1 and 99999999",
    "gss_format": (
        "{value} is not a GSS code: it should be a country letter (E, W, S, N or K) followed "
        "by 8 digits, like E07000110"
    ),
    "ods_format": (
        "{value} is not an NHS ODS code: it should be 3 to 6 letters and digits, like RXX or A81001"
    ),
    "urn_format": "{value} is not a school URN: it should be 6 digits, like 100000",
    "laestab_format": (
        "{value} is not a LAESTAB: it should be the 3-digit local authority number and the "
        "4-digit establishment number, like 8812000 or 881/2000"
    ),
    "cqc_location_id_format": (
        "{value} is not a CQC location ID: it should be 1- followed by digits, like 1-123456789"
    ),
}


def gss_entity_message(entities: tuple[str, ...]) -> str:
    """The ``gss_entity`` message for a column limited to some kinds of area."""
    kinds = " or ".join(entity.replace("_", " ") for entity in entities)
    prefixes = ", ".join(gss_prefixes(entities))
    return (
        f"{{value}} is not the code of a {kinds}: it should start with one of {prefixes} — "
        "check the column holds the right kind of area"
    )


def gss_prefixes(entities: tuple[str, ...]) -> tuple[str, ...]:
    """The code prefixes allowed for these kinds of area, in order, without repeats."""
    prefixes: list[str] = []
    for entity in entities:
        if entity not in GSS_ENTITY_PREFIXES:
            raise ValueError(
                f"'{entity}' is not a GSS entity Accord knows: use one of "
                f"{', '.join(sorted(GSS_ENTITY_PREFIXES))}."
            )
        prefixes.extend(p for p in GSS_ENTITY_PREFIXES[entity] if p not in prefixes)
    return tuple(prefixes)


def clean_nhs_number(expr: pl.Expr) -> pl.Expr:
    spaced = expr.str.replace_all(WHITESPACE_OR_DASH_PATTERN, "")
    return spaced.str.replace(SPREADSHEET_DECIMAL_PATTERN, "${1}")


def nhs_check_digit_fails(expr: pl.Expr) -> pl.Expr:
    """Modulus 11 (weights 10..2 on digits 1-9; check = 11 - sum mod 11; 11 means 0; 10 is
    never issued), in the equivalent form: the sum of digits 1-10 weighted 10..1 is a multiple
    of 11 (a check of 10 would need a tenth digit of 10, so it always fails).

    Vectorised over the whole column (no Python per value): the ten digits are parsed once as
    an integer and taken apart with integer arithmetic, several times faster than slicing the
    text ten times. Only values matching the 10-digit regex are parsed.
    """
    return expr.map_batches(_nhs_check_digit_fails, return_dtype=pl.Boolean)


def _nhs_check_digit_fails(values: pl.Series) -> pl.Series:
    # Ten ASCII digits: ten bytes that parse as a whole number with no sign. Cheaper than a
    # regex, and the engine tests the format rule first anyway.
    signed = values.str.starts_with("+") | values.str.starts_with("-")
    number = values.cast(pl.Int64, strict=False)
    ok = ((values.str.len_bytes() == 10) & number.is_not_null() & ~signed).fill_null(False)
    number = number.zip_with(ok, pl.Series([None], dtype=pl.Int64))
    total = pl.Series(values.name, [0] * len(values), dtype=pl.Int64)
    for position in range(10):
        total = total + (number // 10 ** (9 - position)) % 10 * (10 - position)
    return (ok & (total % 11 != 0)).fill_null(False)


def _nhs_rules(options: IdentifierOptions) -> tuple[Rule, ...]:
    return (
        Rule("nhs_number_scientific", _scientific, MESSAGES["nhs_number_scientific"]),
        Rule(
            "nhs_number_format", _fails_pattern(NHS_NUMBER_PATTERN), MESSAGES["nhs_number_format"]
        ),
        Rule("nhs_number_check_digit", nhs_check_digit_fails, MESSAGES["nhs_number_check_digit"]),
    )


# UPN (§2.2) -------------------------------------------------------------------------------------

_UPN_VALUES = {letter: index for index, letter in enumerate(UPN_ALPHABET)} | {
    str(d): d for d in range(10)
}


def upn_check_letter_fails(expr: pl.Expr) -> pl.Expr:
    """Characters 2-13 times their position (2..13), summed, mod 23, indexes the alphabet."""
    ok = _matches(expr, UPN_PATTERN)
    # Lenient casts and lookups, but only rows matching the UPN regex can fail (as for NHS).
    last = expr.str.slice(12, 1).replace_strict(_UPN_VALUES, default=None, return_dtype=pl.Int32)
    total = pl.sum_horizontal(
        *(_digit(expr, position - 1) * position for position in range(2, 13)), last * 13
    )
    first = expr.str.slice(0, 1).replace_strict(_UPN_VALUES, default=None, return_dtype=pl.Int32)
    return (ok & (first != total % 23)).fill_null(False)


def _upn_rules(options: IdentifierOptions) -> tuple[Rule, ...]:
    return (
        Rule("upn_format", _fails_pattern(UPN_PATTERN), MESSAGES["upn_format"]),
        Rule("upn_check_letter", upn_check_letter_fails, MESSAGES["upn_check_letter"]),
    )


# National Insurance number (§2.3) ---------------------------------------------------------------


def nino_prefix_fails(expr: pl.Expr) -> pl.Expr:
    allowed = _matches(expr, NINO_PREFIX_PATTERN) & ~expr.str.slice(0, 2).is_in(
        NINO_UNUSED_PREFIXES
    ).fill_null(False)
    return (_matches(expr, NINO_SHAPE_PATTERN) & ~allowed).fill_null(False)


def _nino_rules(options: IdentifierOptions) -> tuple[Rule, ...]:
    return (
        Rule("nino_format", _fails_pattern(NINO_SHAPE_PATTERN), MESSAGES["nino_format"]),
        Rule("nino_prefix", nino_prefix_fails, MESSAGES["nino_prefix"]),
    )


# Postcode (§2.4) --------------------------------------------------------------------------------


def clean_postcode(expr: pl.Expr) -> pl.Expr:
    """Upper case, whitespace removed, one space before the last 3 characters (the inward code)."""
    compact = _compact(expr)
    length = compact.str.len_chars()
    return (
        pl.when(length > 3)
        .then(compact.str.slice(0, length - 3) + " " + compact.str.slice(-3))
        .otherwise(compact)
    )


def postcode_fails(expr: pl.Expr, *, allow_pseudo: bool = False) -> pl.Expr:
    """Over a cleaned postcode (see clean_postcode): the strict format, in one regex pass."""
    ok = _matches(expr, POSTCODE_CLEANED_PATTERN)
    if allow_pseudo:
        compact = expr.str.replace_all(" ", "", literal=True)
        ok = ok | _matches(compact, POSTCODE_PSEUDO_PATTERN)
    return (expr.is_not_null() & ~ok).fill_null(False)


def postcode_rules(*, allow_pseudo: bool = False) -> tuple[Rule, ...]:
    """The postcode rule; ``allow_pseudo`` also accepts NHS ``ZZ99`` pseudo-postcodes."""
    rule_id = "postcode_pseudo_format" if allow_pseudo else "postcode_format"
    return (
        Rule(
            rule_id,
            lambda expr: postcode_fails(expr, allow_pseudo=allow_pseudo),
            MESSAGES[rule_id],
        ),
    )


# UPRN and USRN (§2.5) ---------------------------------------------------------------------------


def clean_whole_number(expr: pl.Expr) -> pl.Expr:
    """Whitespace and a spreadsheet's ``.0`` removed, then leading zeros (``"0"`` stays)."""
    return _compact_number(expr).str.replace(LEADING_ZEROS_PATTERN, "${1}")


def _range_fails(max_digits: int) -> Callable[[pl.Expr], pl.Expr]:
    def fails(expr: pl.Expr) -> pl.Expr:
        digits = _matches(expr, DIGITS_PATTERN)
        out_of_range = (expr.str.len_chars() > max_digits) | (expr == "0")
        return (digits & out_of_range).fill_null(False)

    return fails


def _uprn_rules(options: IdentifierOptions) -> tuple[Rule, ...]:
    return (
        Rule("uprn_scientific", _scientific, MESSAGES["uprn_scientific"]),
        Rule("uprn_format", _fails_pattern(DIGITS_PATTERN), MESSAGES["uprn_format"]),
        Rule("uprn_range", _range_fails(UPRN_MAX_DIGITS), MESSAGES["uprn_range"]),
    )


def _usrn_rules(options: IdentifierOptions) -> tuple[Rule, ...]:
    return (
        Rule("usrn_scientific", _scientific, MESSAGES["usrn_scientific"]),
        Rule("usrn_format", _fails_pattern(DIGITS_PATTERN), MESSAGES["usrn_format"]),
        Rule("usrn_range", _range_fails(USRN_MAX_DIGITS), MESSAGES["usrn_range"]),
    )


# GSS codes (§2.6) -------------------------------------------------------------------------------


def gss_entity_fails(entities: tuple[str, ...]) -> Callable[[pl.Expr], pl.Expr]:
    prefixes = gss_prefixes(entities)

    def fails(expr: pl.Expr) -> pl.Expr:
        return (
            _matches(expr, GSS_PATTERN) & ~expr.str.slice(0, 3).is_in(prefixes).fill_null(False)
        ).fill_null(False)

    return fails


def _gss_rules(options: IdentifierOptions) -> tuple[Rule, ...]:
    rules = [Rule("gss_format", _fails_pattern(GSS_PATTERN), MESSAGES["gss_format"])]
    if options.gss_entities:
        rules.append(
            Rule(
                "gss_entity",
                gss_entity_fails(options.gss_entities),
                gss_entity_message(options.gss_entities),
            )
        )
    return tuple(rules)


def code_list_rule(name: str) -> Rule:
    """The rule that a (cleaned) code belongs to a bundled code list, id ``code_list``."""
    from . import codelists

    code_list = codelists.load(name)
    return Rule(
        "code_list",
        lambda expr: codelists.membership_fails(name, expr),
        "{value} is not in the code list "
        + f"{code_list.title} ({code_list.vintage}): check the code for a typing error, or "
        + "whether it is an older or newer code than this list",
    )


# Other organisation and place identifiers (§2.8) -------------------------------------------------


def clean_laestab(expr: pl.Expr) -> pl.Expr:
    return _compact_number(expr).str.replace(LAESTAB_SLASH_PATTERN, "${1}${2}")


def _single_rule(rule_id: str, pattern: str) -> Callable[[IdentifierOptions], tuple[Rule, ...]]:
    def build(options: IdentifierOptions) -> tuple[Rule, ...]:
        return (Rule(rule_id, _fails_pattern(pattern), MESSAGES[rule_id]),)

    return build


# The identifier types ----------------------------------------------------------------------------


def _register(kind: IdentifierType) -> None:
    IDENTIFIER_TYPES[kind.name] = kind


_register(
    IdentifierType(
        name="nhs_number",
        label="NHS number",
        example="943 476 5919",
        personal=True,
        clean=clean_nhs_number,
        canonical=r"^[0-9]+$",
        rule_builder=_nhs_rules,
        description="10 digits with a modulus 11 check digit; spaces and hyphens are ignored.",
    )
)
_register(
    IdentifierType(
        name="upn",
        label="Unique pupil number",
        example="P207000016049",
        personal=True,
        clean=_compact,
        canonical=r"^[A-Z0-9-]+$",
        rule_builder=_upn_rules,
        description="A check letter, 11 digits, and a digit or letter (DfE UPN).",
    )
)
_register(
    IdentifierType(
        name="nino",
        label="National Insurance number",
        example="AB 12 34 56 C",
        personal=True,
        clean=_compact,
        canonical=r"^[A-Z0-9-]+$",
        rule_builder=_nino_rules,
        description="2 letters, 6 digits and A, B, C or D (HMRC NIM39110).",
    )
)
_register(
    IdentifierType(
        name="postcode",
        label="Postcode",
        example="SW1A 2AA",
        personal=False,
        clean=clean_postcode,
        canonical=r"^[A-Z0-9]{2,4} [A-Z0-9]{3}$",
        rule_builder=lambda options: postcode_rules(allow_pseudo=False),
        description="A full UK postcode in the BS 7666 format.",
    )
)
_register(
    IdentifierType(
        name="postcode_pseudo",
        label="Postcode or NHS pseudo-postcode",
        example="SW1A 2AA",
        personal=False,
        clean=clean_postcode,
        canonical=r"^[A-Z0-9]{2,4} [A-Z0-9]{3}$",
        rule_builder=lambda options: postcode_rules(allow_pseudo=True),
        description="A full UK postcode, or an NHS ZZ99 pseudo-postcode (no fixed abode).",
    )
)
_register(
    IdentifierType(
        name="uprn",
        label="UPRN",
        example="100023336956",
        personal=True,
        clean=clean_whole_number,
        canonical=r"^(?:[1-9][0-9]*|0)$",
        rule_builder=_uprn_rules,
        description="Unique Property Reference Number: a whole number from 1 to 999999999999.",
    )
)
_register(
    IdentifierType(
        name="usrn",
        label="USRN",
        example="21500123",
        personal=False,
        clean=clean_whole_number,
        canonical=r"^(?:[1-9][0-9]*|0)$",
        rule_builder=_usrn_rules,
        description="Unique Street Reference Number: a whole number from 1 to 99999999.",
    )
)
_register(
    IdentifierType(
        name="gss",
        label="GSS code",
        example="E07000110",
        personal=False,
        clean=_compact,
        canonical=r"^[A-Z0-9-]+$",
        rule_builder=_gss_rules,
        description="An ONS/GSS geography code: E, W, S, N or K and 8 digits.",
    )
)
_register(
    IdentifierType(
        name="ods",
        label="ODS code",
        example="RXX",
        personal=False,
        clean=_compact,
        canonical=r"^[A-Z0-9-]+$",
        rule_builder=_single_rule("ods_format", ODS_PATTERN),
        description="An NHS Organisation Data Service code: 3 to 6 letters and digits.",
    )
)
_register(
    IdentifierType(
        name="urn",
        label="School URN",
        example="100000",
        personal=False,
        clean=_compact_number,
        canonical=r"^[0-9]+$",
        rule_builder=_single_rule("urn_format", URN_PATTERN),
        description="A DfE unique reference number for a school: 6 digits.",
    )
)
_register(
    IdentifierType(
        name="laestab",
        label="LAESTAB",
        example="8812000",
        personal=False,
        clean=clean_laestab,
        canonical=r"^[0-9]+$",
        rule_builder=_single_rule("laestab_format", LAESTAB_PATTERN),
        description="DfE local authority number (3 digits) and establishment number (4 digits).",
    )
)
_register(
    IdentifierType(
        name="cqc_location_id",
        label="CQC location ID",
        example="1-123456789",
        personal=False,
        clean=_compact,
        canonical=r"^[A-Z0-9-]+$",
        rule_builder=_single_rule("cqc_location_id_format", CQC_LOCATION_ID_PATTERN),
        description="A Care Quality Commission location ID: 1- followed by digits.",
    )
)


# Dates (§2.7) -----------------------------------------------------------------------------------
# Accepted layouts. ``default`` is ISO 8601 only, as Table Schema says; ``any`` adds UK day-first
# dates and the ISO date with a midnight time that spreadsheet readers give for date cells.
# Never US month-first, never 2-digit years. Excel serial day numbers only when asked.

DATE_FORMATS = ("default", "any")
ISO_DATE_PATTERN = r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})$"
ISO_MIDNIGHT_PATTERN = r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})[ T]00:00:00$"
UK_DATE_PATTERNS = tuple(
    rf"^(?P<d>[0-9]{{1,2}}){sep}(?P<m>[0-9]{{1,2}}){sep}(?P<y>[0-9]{{4}})$"
    for sep in ("/", "-", r"\.")
)
EXCEL_SERIAL_PATTERN = r"^(?P<n>[0-9]{1,5})(?:\.0+)?$"
# Excel's 1900 date system: 1 is 1900-01-01 and 60 is 29 February 1900, a day that never was
# (Lotus 1-2-3 thought 1900 a leap year). Serials from 61 count from 1899-12-30; 1-59 from
# 1899-12-31. Days from 1970-01-01 (Polars' Date epoch) to each:
EXCEL_FICTITIOUS_LEAP_DAY = 60
_EXCEL_EPOCH_FROM_61 = -25569  # 1899-12-30
_EXCEL_EPOCH_TO_59 = -25568  # 1899-12-31

ISO_DATETIME_PATTERN = (
    r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})[T ]"
    r"(?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]{1,6}))?)?"
    r"(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
UK_DATETIME_PATTERNS = tuple(
    rf"^(?P<d>[0-9]{{1,2}}){sep}(?P<m>[0-9]{{1,2}}){sep}(?P<y>[0-9]{{4}}) "
    r"(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?P<sc>:(?P<s>[0-9]{2}))?$"
    for sep in ("/", "-", r"\.")
)

DATE_MESSAGES: dict[str, str] = {
    "date_format_default": "{value} is not a date in the form YYYY-MM-DD, like 2024-03-01",
    "date_format_any": (
        "{value} is not a date Accord can read: use the form YYYY-MM-DD or DD/MM/YYYY, "
        "like 2024-03-01 or 01/03/2024"
    ),
    "date_format_any_serial": (
        "{value} is not a date Accord can read: use the form YYYY-MM-DD or DD/MM/YYYY, "
        "like 2024-03-01 or 01/03/2024, or an Excel date cell"
    ),
    "date_real": (
        "{value} is not a real date: there is no such day in the calendar — check the day "
        "and the month"
    ),
    "date_real_any": (
        "{value} is not a real date: there is no such day in the calendar — check the day "
        "and the month, and write the day first, like 01/03/2024 for 1 March 2024"
    ),
    "datetime_format_default": (
        "{value} is not a date and time in the form YYYY-MM-DDTHH:MM:SS, with an offset if "
        "you know it, like 2025-03-01T09:00:00+00:00"
    ),
    "datetime_format_any": (
        "{value} is not a date and time Accord can read: use the form YYYY-MM-DDTHH:MM:SS or "
        "DD/MM/YYYY HH:MM, like 2025-03-01T09:00:00 or 01/03/2025 09:00"
    ),
    "datetime_real": (
        "{value} is not a real date and time: check the day, the month and the time "
        "(hours 00-23, minutes and seconds 00-59)"
    ),
}


def _check_format(fmt: str) -> None:
    if fmt not in DATE_FORMATS:
        raise ValueError(f"A date format must be 'default' or 'any', not {fmt!r}.")


def _trim(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars(WHITESPACE)


@dataclass(frozen=True)
class _DateParts:
    matched: pl.Expr  # the text has an accepted layout
    real: pl.Expr  # ... and is a real day
    iso: pl.Expr  # "YYYY-MM-DD" where real, else null
    date: pl.Expr  # pl.Date where real, else null


# The vectorised forms of the layouts above, with the same meaning: ISO with or without the
# midnight time (its date part captured); UK day-first, recognised by the three strict patterns
# (one separator throughout) and rewritten by one pattern taking any of the separators.
_ISO_DATE_PART = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})$"
_ISO_DATE_PART_ANY = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T]00:00:00)?$"
_UK_DATE_ANY = r"^(?P<d>[0-9]{1,2})[/.-](?P<m>[0-9]{1,2})[/.-](?P<y>[0-9]{4})$"


def _date_parts(expr: pl.Expr, fmt: str, excel_serial: bool) -> _DateParts:
    """Layout by regex, the text rewritten as year-month-day, then calendar validity by a
    ``%Y-%m-%d`` parse. The parse is lenient (it takes ``2024-3-1`` or ``+2024-03-01``), so it
    only ever sees text a layout regex has matched and rewritten."""
    _check_format(fmt)
    text = _trim(expr)
    if fmt == "default":
        iso_text = text.str.extract(_ISO_DATE_PART, 1)
    else:
        uk = pl.any_horizontal([text.str.contains(p) for p in UK_DATE_PATTERNS])
        uk_text = pl.when(uk).then(text.str.replace(_UK_DATE_ANY, "${y}-${m}-${d}"))
        iso_text = pl.coalesce(text.str.extract(_ISO_DATE_PART_ANY, 1), uk_text)
    # Year 0 is not a year (Python's dates start at 1; Polars' would take it).
    text_date = (
        pl.when(~iso_text.str.starts_with("0000"))
        .then(iso_text)
        .str.to_date("%Y-%m-%d", strict=False)
    )
    matched = iso_text.is_not_null()
    date = text_date
    if excel_serial and fmt == "any":
        serial_text = text.str.extract(EXCEL_SERIAL_PATTERN, 1)
        serial = serial_text.cast(pl.Int32, strict=False)  # 1-5 ASCII digits or null
        serial_real = ((serial >= 1) & (serial != EXCEL_FICTITIOUS_LEAP_DAY)).fill_null(False)
        days = (
            pl.when(serial < EXCEL_FICTITIOUS_LEAP_DAY)
            .then(serial + _EXCEL_EPOCH_TO_59)
            .otherwise(serial + _EXCEL_EPOCH_FROM_61)
        )
        date = pl.coalesce(text_date, pl.when(serial_real).then(days.cast(pl.Date)))
        matched = matched | serial_text.is_not_null()
    return _DateParts(
        matched=matched.fill_null(False),
        real=date.is_not_null(),
        iso=date.dt.to_string("%Y-%m-%d"),
        date=date,
    )


def date_real_message(fmt: str) -> str:
    return DATE_MESSAGES["date_real_any" if fmt == "any" else "date_real"]


def date_rules(fmt: str, *, excel_serial: bool) -> tuple[Rule, ...]:
    """``date_format`` (no accepted layout), then ``date_real`` (no such calendar day).

    The rules take the trimmed text as typed, not a cleaned value. ``excel_serial`` has effect
    only with ``fmt="any"``: ``default`` is ISO 8601 and nothing else.
    """
    _check_format(fmt)
    if fmt == "default":
        format_message = DATE_MESSAGES["date_format_default"]
    elif excel_serial:
        format_message = DATE_MESSAGES["date_format_any_serial"]
    else:
        format_message = DATE_MESSAGES["date_format_any"]

    def format_fails(expr: pl.Expr) -> pl.Expr:
        return (expr.is_not_null() & ~_date_parts(expr, fmt, excel_serial).matched).fill_null(False)

    def real_fails(expr: pl.Expr) -> pl.Expr:
        parts = _date_parts(expr, fmt, excel_serial)
        return (parts.matched & ~parts.real).fill_null(False)

    return (
        Rule("date_format", format_fails, format_message),
        Rule("date_real", real_fails, date_real_message(fmt)),
    )


# Dates already in ISO form: the engine parses these directly and sends only the rest through
# the full layout handling. ``iso_date_fast`` agrees with ``parse_date_expr`` on such text.
ISO_DATE_CANONICAL = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def iso_date_fast(expr: pl.Expr) -> pl.Expr:
    """``pl.Date`` from text matching ISO_DATE_CANONICAL (null for no such day or year 0)."""
    return pl.when(~expr.str.starts_with("0000")).then(expr).str.to_date("%Y-%m-%d", strict=False)


DATE_OK, DATE_NO_LAYOUT, DATE_NOT_REAL = 0, 1, 2


def date_status(expr: pl.Expr, fmt: str, *, excel_serial: bool) -> pl.Expr:
    """Per value: DATE_OK (or blank), DATE_NO_LAYOUT (``date_format`` fails) or DATE_NOT_REAL
    (``date_real`` fails), as a small integer, so both rules read one computed column."""
    parts = _date_parts(expr, fmt, excel_serial)
    return (
        pl.when(expr.is_null() | parts.real)
        .then(pl.lit(DATE_OK, dtype=pl.UInt8))
        .when(~parts.matched)
        .then(pl.lit(DATE_NO_LAYOUT, dtype=pl.UInt8))
        .otherwise(pl.lit(DATE_NOT_REAL, dtype=pl.UInt8))
    )


def clean_date(expr: pl.Expr, fmt: str, *, excel_serial: bool) -> pl.Expr:
    """The date as ISO ``YYYY-MM-DD`` text; null where the text is not a valid date."""
    return _date_parts(expr, fmt, excel_serial).iso


def parse_date_expr(expr: pl.Expr, fmt: str, *, excel_serial: bool) -> pl.Expr:
    """The date as ``pl.Date``; null where the text is not a valid date. Never raises."""
    return _date_parts(expr, fmt, excel_serial).date


# Datetimes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DatetimeParts:
    matched: pl.Expr
    real: pl.Expr
    iso: pl.Expr


# Rewrites towards YYYY-MM-DDTHH:MM:SS[.ffffff][+HH:MM], applied in order to text that matched
# an accepted layout (as for dates, a chain of replacements rather than a tree of parts).
_DATETIME_REWRITES = (
    (r"^([0-9]{4}-[0-9]{2}-[0-9]{2}) ", "${1}T"),  # a space for the T
    (r"^([0-9]{4})-([0-9])-", "${1}-0${2}-"),  # 1-digit month, day and hour (UK forms)
    (r"^([0-9]{4}-[0-9]{2})-([0-9])T", "${1}-0${2}T"),
    (r"^([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]):", "${1}T0${2}:"),
    # No seconds: add them, before any offset.
    (r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2})(Z|[+-][0-9:]*)?$", "${1}:00${2}"),
    (r"^(.{19}),", "${1}."),  # a decimal comma
    (r"^(.{19}\.[0-9]+)", "${1}000000"),  # fraction to 6 digits: pad ...
    (r"^(.{19}\.[0-9]{6})[0-9]*", "${1}"),  # ... and cut
    (r"Z$", "+00:00"),
    (r"([+-][0-9]{2})([0-9]{2})$", "${1}:${2}"),
    (r"([+-][0-9]{2})$", "${1}:00"),
)


# The time (and offset) in range, for text that matched a layout: hours 00-23, minutes and
# seconds 00-59, offsets up to 23:59 (as Python's datetime allows).
_ISO_DATETIME_IN_RANGE = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]"
    r"(?::[0-5][0-9](?:[.,][0-9]{1,6})?)?(?:Z|[+-]([01][0-9]|2[0-3])(?::?[0-5][0-9])?)?$"
)
_UK_DATETIME_IN_RANGE = (
    r"^[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4} ([01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?$"
)
_UK_DATETIME_DAY = r"^(?P<d>[0-9]{1,2})[/.-](?P<m>[0-9]{1,2})[/.-](?P<y>[0-9]{4}) .*$"


def _datetime_parts(expr: pl.Expr, fmt: str) -> _DatetimeParts:
    """Layout and time ranges by regex; the day by a ``%Y-%m-%d`` parse of the date part (only
    of text a layout regex matched). The ISO text for ``clean_datetime`` is a chain of regex
    rewrites, built only there."""
    _check_format(fmt)
    text = _trim(expr)
    iso_layout = text.str.contains(ISO_DATETIME_PATTERN)
    day_text: pl.Expr = pl.when(iso_layout).then(text.str.slice(0, 10))
    in_range = text.str.contains(_ISO_DATETIME_IN_RANGE)
    matched = iso_layout
    patterns: tuple[str, ...] = (ISO_DATETIME_PATTERN,)
    if fmt == "any":
        patterns = (ISO_DATETIME_PATTERN, *UK_DATETIME_PATTERNS)
        uk_layout = pl.any_horizontal([text.str.contains(p) for p in UK_DATETIME_PATTERNS])
        matched = iso_layout | uk_layout
        day_text = pl.coalesce(
            day_text,
            pl.when(uk_layout).then(text.str.replace(_UK_DATETIME_DAY, "${y}-${m}-${d}")),
        )
        in_range = in_range | text.str.contains(_UK_DATETIME_IN_RANGE)
    day_ok = (
        pl.when(~day_text.str.starts_with("0000"))
        .then(day_text)
        .str.to_date("%Y-%m-%d", strict=False)
        .is_not_null()
    )
    real = (matched & in_range & day_ok).fill_null(False)
    iso = text
    for pattern in patterns[1:]:
        iso = iso.str.replace(pattern, "${y}-${m}-${d}T${h}:${mi}${sc}")
    for pattern, replacement in _DATETIME_REWRITES:
        iso = iso.str.replace(pattern, replacement)
    return _DatetimeParts(matched=matched.fill_null(False), real=real, iso=pl.when(real).then(iso))


def datetime_rules(fmt: str) -> tuple[Rule, ...]:
    """``datetime_format`` then ``datetime_real``; they take the trimmed text as typed."""
    _check_format(fmt)

    def format_fails(expr: pl.Expr) -> pl.Expr:
        return (expr.is_not_null() & ~_datetime_parts(expr, fmt).matched).fill_null(False)

    def real_fails(expr: pl.Expr) -> pl.Expr:
        parts = _datetime_parts(expr, fmt)
        return (parts.matched & ~parts.real).fill_null(False)

    return (
        Rule("datetime_format", format_fails, DATE_MESSAGES[f"datetime_format_{fmt}"]),
        Rule("datetime_real", real_fails, DATE_MESSAGES["datetime_real"]),
    )


def clean_datetime(expr: pl.Expr, fmt: str) -> pl.Expr:
    """ISO 8601 text ``YYYY-MM-DDTHH:MM:SS[.ffffff][+HH:MM]``; null where invalid.

    The offset is kept as given (``Z`` written ``+00:00``); a value typed without one stays
    without one.
    """
    return _datetime_parts(expr, fmt).iso
