"""What an access decision's obligations do to the data, and the files extracts are written to.

Everything here works on whole columns (Polars expressions, run lazily so the optimiser shares
common work): no Python runs per value, so a million rows are pseudonymised and generalised
in about a second on two cores (bench/extracts.py).

**Pseudonymisation** (``pseudonymise``) replaces an identifier with the lowercase hex
HMAC-SHA256 of its *normalised* value (``normalise_expr``: "943 476 5919" and "9434765919" are
the same NHS number, "000100021" and "100021" the same UPRN), under a key of the agreement's own
(``pseudonymisation_key``). Within one agreement a person keeps one pseudonym, so a recipient
can link its extracts; across agreements the pseudonyms differ, so two recipients cannot link
theirs. The key is 32 random bytes kept wrapped in the vault's key store, in its
``pseudonym/`` folder (``accord.vault.keys.store_pseudonymisation_key``: the orphan sweep
never touches it, master key rotation re-wraps it, backups leave it out); it is not derived
from the master key, so rotating the master key changes no pseudonym. HMAC (RFC 2104) is
computed as ``sha256(opad || unhex(sha256(ipad || value)))`` over the whole column, SHA-256
coming from the polars-hash plugin (Rust ``sha2``, faster than DuckDB's: bench/README.md); the
pads are prepared once in Python and enter the query as one-value Series, never as printable
literals, and a failure is reported without Polars' message (which quotes the expression).
Each value is hashed where it stands. Hashing each distinct value once and joining the
pseudonyms back was measured (bench/README.md): with 2.5 rows a person it saved about a quarter
of the pseudonymising time, with every identifier distinct it cost about half as much again.
Nulls, and values empty after normalisation, stay null: an empty string is never hashed.

**Generalisation** (``generalise``) coarsens dates and postcodes: ``year``, ``age_band``
("35-39", "90+"), ``postcode_sector`` ("ME14 1"), ``postcode_district`` ("ME14"). A value that
cannot be read becomes null.

**Obligations** (``apply_obligations``) are applied in a fixed order: the row filter (failing
closed when its column is missing), dropped and allowed fields, pseudonymisation, then
generalisation.

**Extract files** (``write_extract``) carry their metadata (extract id, agreement, purpose,
caveats...) inside them, and are safe against formula injection (OWASP "CSV injection"): in CSV
and XLSX a text cell (or column name, or metadata value) starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading ``'``, so spreadsheet programs show it rather
than run it; numbers stay numbers.

- ``parquet``: the metadata as Parquet key-value metadata.
- ``xlsx``: a "Data" sheet, an "About this extract" sheet listing the metadata, and the
  workbook's document properties (title, subject, and each item as a custom property).
  Written by openpyxl in write-only mode (streamed, bounded memory; openpyxl is already a
  dependency, while Polars' own ``write_excel`` would need xlsxwriter). Characters XML cannot
  hold (control characters other than tab, line feed and carriage return) become U+FFFD.
- ``csv``: a CSV file cannot carry metadata of its own, so the extract is a ZIP file holding
  ``extract.csv`` (UTF-8 with a byte order mark, so Excel reads it as UTF-8; CRLF line ends)
  and a Frictionless Data Package descriptor, ``datapackage.json``, whose one resource
  describes the CSV (dialect, encoding, a Table Schema from the frame's types) and which holds
  the metadata under ``"accord"``. The ZIP is written beside ``path`` with the suffix ``.zip``
  and its path is returned. The CSV is written into the ZIP a slice of rows at a time.

Every file is written under a temporary name in the same folder and renamed into place when
complete, so nobody ever sees half an extract.
"""

from __future__ import annotations

import calendar
import codecs
import contextlib
import hashlib
import io
import json
import os
import secrets
import uuid
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from polars.expr.whenthen import ChainedThen, Then
from polars_hash import CryptographicHashingNameSpace

from accord.vault.exceptions import KeyFileMissing
from accord.vault.keys import (
    load_pseudonymisation_key,
    new_data_key,
    store_pseudonymisation_key,
)

if TYPE_CHECKING:  # decisions imports Django models; transforming frames needs no Django
    from .decisions import Obligations

# --- pseudonymisation ---------------------------------------------------------------------------

IDENTIFIER_TYPES = ("nhs_number", "uprn", "postcode", "nino")
MIN_KEY_BYTES = 16
SHA256_BLOCK_BYTES = 64
PSEUDONYM_KEY_VERSION = 1
# Fixed for ever: changing it would change every agreement's key id, and so every pseudonym.
PSEUDONYM_KEY_NAMESPACE = uuid.UUID("6f1d3b0e-5a4c-4f7e-9b2d-8c1e7a9f4d21")


def normalise_expr(column: str, identifier_type: str | None) -> pl.Expr:
    """The column's values normalised for ``identifier_type`` as text, nulls and values that
    are empty after normalisation as null.

    - ``nhs_number``: spaces and hyphens removed (a well-formed number is then digits only);
    - ``uprn``: spaces and hyphens removed, then leading zeros;
    - ``postcode`` and ``nino``: upper case, all white space removed;
    - anything else: trimmed, inner white space collapsed to one space, upper case.

    Only separators are removed, never other characters, so a malformed value never becomes
    equal to a well-formed one.
    """
    text = pl.col(column).cast(pl.String)
    if identifier_type == "nhs_number":
        value = text.str.replace_all(r"[\s\-]+", "").str.to_uppercase()
    elif identifier_type == "uprn":
        value = text.str.replace_all(r"[\s\-]+", "").str.to_uppercase().str.strip_chars_start("0")
    elif identifier_type in ("postcode", "nino"):
        value = text.str.replace_all(r"\s+", "").str.to_uppercase()
    else:
        value = text.str.replace_all(r"\s+", " ").str.strip_chars(" ").str.to_uppercase()
    return pl.when(value.str.len_bytes() > 0).then(value).otherwise(None).alias(column)


def _hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """RFC 2104's inner and outer padded keys for SHA-256."""
    if len(key) > SHA256_BLOCK_BYTES:
        key = hashlib.sha256(key).digest()
    key = key.ljust(SHA256_BLOCK_BYTES, b"\0")
    ipad = bytes(byte ^ 0x36 for byte in key)
    opad = bytes(byte ^ 0x5C for byte in key)
    return ipad, opad


def _sha256_hex(value: pl.Expr) -> pl.Expr:
    """The lowercase hex SHA-256 of each binary value (polars-hash, Rust ``sha2``)."""
    return CryptographicHashingNameSpace(value).sha2_256()


def _hmac_expr(value: pl.Expr, key: bytes) -> pl.Expr:
    """The lowercase hex HMAC-SHA256 under ``key`` of each value of ``value`` (text as UTF-8,
    or binary); nulls stay null. RFC 2104: ``H(opad || H(ipad || value))``.

    The pads go in as one-value Series, not as literals: Polars prints a literal's bytes in
    expressions and their error messages, and the pads are the key."""
    ipad, opad = _hmac_pads(key)
    inner = _sha256_hex(pl.lit(pl.Series("ipad", [ipad], dtype=pl.Binary)) + value.cast(pl.Binary))
    outer = pl.lit(pl.Series("opad", [opad], dtype=pl.Binary)) + inner.str.decode("hex")
    return _sha256_hex(outer)


def _hashed(frame: pl.DataFrame, expressions: Iterable[pl.Expr]) -> pl.DataFrame:
    """``frame.with_columns(expressions)``, where an error says nothing of the values or the key
    (Polars' own message would quote the failing expression). Run lazily: the optimiser computes
    each normalised value once (``normalise_expr`` uses it twice): normalising is 4x faster."""
    try:
        return frame.lazy().with_columns(expressions).collect()
    except pl.exceptions.PolarsError as exc:
        raise RuntimeError(
            f"Pseudonymisation failed ({type(exc).__name__}); nothing was released."
        ) from None


def hmac_sha256_hex(values: pl.Series, key: bytes) -> pl.Series:
    """The lowercase hex HMAC-SHA256 under ``key`` of each value (text as UTF-8, or binary),
    nulls staying null. The primitive ``pseudonymise`` uses, exposed for its tests."""
    if values.dtype not in (pl.String, pl.Binary):
        values = values.cast(pl.String)
    name = values.name or "value"
    hashed = _hashed(
        values.alias(name).to_frame(), [_hmac_expr(pl.col(name), bytes(key)).alias(name)]
    )
    return hashed.get_column(name).alias(values.name)


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"A pseudonymisation key must be at least {MIN_KEY_BYTES} random bytes; use "
            "pseudonymisation_key(agreement_id) to get the agreement's key."
        )


_UNHASHABLE = (pl.List, pl.Array, pl.Struct, pl.Object)


def pseudonymise(
    frame: pl.DataFrame, columns: Mapping[str, str | None], key: bytes
) -> pl.DataFrame:
    """``frame`` with each column named in ``columns`` (name → identifier type, or None)
    replaced by the lowercase hex HMAC-SHA256, under ``key``, of its normalised value
    (``normalise_expr``). Nulls, and values empty after normalisation, stay null."""
    _check_key(key)
    if not columns:
        return frame
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise ValueError(f"Cannot pseudonymise {', '.join(missing)}: no such column.")
    for name in columns:
        if isinstance(frame.schema[name], _UNHASHABLE):
            raise ValueError(
                f"Cannot pseudonymise column {name}: it holds {frame.schema[name]} values, "
                "not single values."
            )
    return _hashed(
        frame,
        (
            _hmac_expr(normalise_expr(name, identifier_type), bytes(key)).alias(name)
            for name, identifier_type in columns.items()
        ),
    )


def pseudonymisation_key_id(agreement_id: str) -> uuid.UUID:
    """The key store id of the agreement's pseudonymisation key (the same for ever)."""
    agreement_id = str(agreement_id).strip()
    if not agreement_id:
        raise ValueError("A pseudonymisation key belongs to an agreement: give its id.")
    return uuid.uuid5(PSEUDONYM_KEY_NAMESPACE, f"pseudonym-key:{agreement_id}")


def pseudonymisation_key(agreement_id: str) -> bytes:
    """The agreement's pseudonymisation key: 32 random bytes made on first use and kept in the
    vault's key store, wrapped under the master key (so rotating the master key re-wraps it but
    never changes it, and no pseudonym changes). Two processes asking first at the same moment
    get the same key: the key store never replaces a key file, so the loser reads the winner's.
    """
    key_id = pseudonymisation_key_id(agreement_id)
    try:
        return load_pseudonymisation_key(key_id, PSEUDONYM_KEY_VERSION)
    except KeyFileMissing:
        pass
    with contextlib.suppress(FileExistsError):  # made by someone else meanwhile: use theirs
        store_pseudonymisation_key(key_id, PSEUDONYM_KEY_VERSION, new_data_key())
    return load_pseudonymisation_key(key_id, PSEUDONYM_KEY_VERSION)


# --- generalisation -----------------------------------------------------------------------------

GENERALISATION_LEVELS = ("year", "age_band", "postcode_sector", "postcode_district")
AGE_BAND_WIDTH = 5
AGE_BAND_TOP = 90
_ISO_DATE = r"^\s*(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.]*(?:Z|[+-]\d{2}:?\d{2})?)?\s*$"
_POSTCODE = r"^(?P<district>[A-Z]{1,2}[0-9][A-Z0-9]?)(?P<sector>[0-9])[A-Z]{2}$"


def _as_date(column: str, dtype: pl.DataType) -> pl.Expr:
    """The column's values as dates (null where they are not dates)."""
    value = pl.col(column)
    if dtype == pl.Date:
        return value
    if isinstance(dtype, pl.Datetime):
        return value.dt.date()
    return value.cast(pl.String).str.extract(_ISO_DATE, 1).str.to_date("%Y-%m-%d", strict=False)


def _years_before(today: date, years: int) -> date:
    """The last birth date of someone ``years`` old or more on ``today``: the same day ``years``
    earlier, or 28 February when that is 29 February of a common year (a leap-day birthday
    counts on 1 March)."""
    year = today.year - years
    return date(year, today.month, min(today.day, calendar.monthrange(year, today.month)[1]))


def _age_band(born: pl.Expr, today: date) -> pl.Expr:
    # Full years as of today, by comparing the date of birth with each band's last birth date
    # (no per-value calendar arithmetic): someone is A or older iff born on or before
    # _years_before(today, A).
    band: Then | ChainedThen = pl.when(born <= _years_before(today, AGE_BAND_TOP)).then(
        pl.lit(f"{AGE_BAND_TOP}+")
    )
    for lower in range(AGE_BAND_TOP - AGE_BAND_WIDTH, -1, -AGE_BAND_WIDTH):
        label = f"{lower}-{lower + AGE_BAND_WIDTH - 1}"
        band = band.when(born <= _years_before(today, lower)).then(pl.lit(label))
    return band.otherwise(None)  # born after today, or not a date


def _postcode_part(column: str, level: str) -> pl.Expr:
    compact = pl.col(column).cast(pl.String).str.replace_all(r"\s+", "").str.to_uppercase()
    parts = compact.str.extract_groups(_POSTCODE)  # one regex pass for both parts
    district = parts.struct.field("district")
    if level == "postcode_district":
        return district
    return district + " " + parts.struct.field("sector")


def _generalised(column: str, level: str, dtype: pl.DataType, today: date) -> pl.Expr:
    if level == "year":
        return _as_date(column, dtype).dt.year().cast(pl.Int32).alias(column)
    if level == "age_band":
        return _age_band(_as_date(column, dtype), today).alias(column)
    if level in ("postcode_sector", "postcode_district"):
        return _postcode_part(column, level).alias(column)
    raise ValueError(
        f"Cannot generalise {column} to “{level}”: Accord knows only "
        f"{', '.join(GENERALISATION_LEVELS)}."
    )


def generalise(
    frame: pl.DataFrame, pairs: Iterable[tuple[str, str]], *, today: date
) -> pl.DataFrame:
    """``frame`` with each (column, level) of ``pairs`` coarsened in place:

    - ``year``: a date (``pl.Date``, a datetime, or ISO text) → its year, an integer;
    - ``age_band``: a date of birth → the five-year band of the age on ``today``, as text
      ("35-39"), and "90+" from 90;
    - ``postcode_sector``: "ME14 1XX" → "ME14 1" (any spacing or case);
    - ``postcode_district``: "ME14 1XX" → "ME14".

    Values that cannot be read become null.
    """
    pairs = list(pairs)
    seen: set[str] = set()
    for column, _level in pairs:
        if column not in frame.columns:
            raise ValueError(f"Cannot generalise {column}: no such column.")
        if column in seen:
            raise ValueError(f"Column {column} is given more than one generalisation.")
        seen.add(column)
    if not pairs:
        return frame
    return (
        frame.lazy()
        .with_columns(
            _generalised(column, level, frame.schema[column], today) for column, level in pairs
        )
        .collect()
    )


# --- obligations --------------------------------------------------------------------------------


def row_filter(
    frame: pl.DataFrame, conditions: Iterable[tuple[str, Collection[str]]]
) -> pl.DataFrame:
    """The rows of ``frame`` that pass every (column, allowed values) condition; none when a
    condition's column is missing."""
    keep = pl.lit(True)
    for column, allowed in conditions:
        if column not in frame.columns:
            return frame.clear()  # the rows cannot be checked: none may leave
        values = pl.Series(values=[str(value) for value in allowed], dtype=pl.String)
        keep = keep & pl.col(column).cast(pl.String).is_in(values.implode()).fill_null(False)
    return frame.filter(keep)


def apply_obligations(
    frame: pl.DataFrame,
    obligations: Obligations,
    *,
    key: bytes | None,
    identifier_types: Mapping[str, str],
    area_values: Mapping[str, Collection[str]] | None = None,
    today: date,
    keep_columns: Iterable[str] = (),
) -> pl.DataFrame:
    """``frame`` as the decision's ``obligations`` allow it to leave, in this order:

    1. rows: a row is kept only if, for every (column, allowed values) of the row filter, its
       value (as text) is one of them; a filter column the frame lacks keeps no rows. Each
       (column, values) of ``area_values`` narrows the rows the same way (never widens them);
    2. columns: ``drop_fields`` are dropped; when the obligations name ``allowed_fields``, only
       those and ``keep_columns`` (provenance columns) are kept;
    3. ``pseudonymise_fields`` are pseudonymised under ``key``, normalised by their
       ``identifier_types`` (a ValueError if there is no key);
    4. ``generalise_fields`` are generalised (as of ``today``).

    Obligations naming columns the frame lacks are ignored, except the row filter's.
    """
    pseudonymise_fields = tuple(obligations.pseudonymise_fields)
    if pseudonymise_fields and key is None:
        raise ValueError(
            "This data must be pseudonymised before it leaves, but no pseudonymisation key "
            "was given."
        )
    conditions: list[tuple[str, Collection[str]]] = list(obligations.row_filter)
    conditions += list((area_values or {}).items())
    frame = row_filter(frame, conditions)

    dropped = set(obligations.drop_fields)
    allowed_fields = getattr(obligations, "allowed_fields", None)
    allowed = None if allowed_fields is None else set(allowed_fields) | set(keep_columns)
    frame = frame.select(
        name
        for name in frame.columns
        if name not in dropped and (allowed is None or name in allowed)
    )

    present = set(frame.columns)
    to_hash = {
        name: identifier_types.get(name)
        for name in dict.fromkeys(pseudonymise_fields)
        if name in present
    }
    if to_hash:
        assert key is not None  # checked above
        frame = pseudonymise(frame, to_hash, key)
    pairs = [
        (column, level) for column, level in obligations.generalise_fields if column in present
    ]
    return generalise(frame, pairs, today=today)


# --- extract files ------------------------------------------------------------------------------

EXTRACT_FORMATS = ("csv", "xlsx", "parquet")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = r"^([=+\-@\t\r])"
_XML_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
XLSX_MAX_ROWS = 1_048_576
CSV_SLICE_ROWS = 100_000
ZIP_LEVEL = 1
XLSX_SLICE_ROWS = 10_000
DATA_SHEET = "Data"
ABOUT_SHEET = "About this extract"
_TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum)
_NESTED = (pl.List, pl.Array, pl.Struct, pl.Object, pl.Binary)


def escape_formula(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet program would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _escaped_text(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.replace(_FORMULA_PATTERN, "'$1").alias(column)


def _spreadsheet_safe(frame: pl.DataFrame, *, xlsx: bool) -> pl.DataFrame:
    """Text columns escaped against formula injection (and, for XLSX, cleaned of characters
    XML cannot hold, with NaN and infinities as empty cells and times without time zones);
    column names escaped too. Raises ValueError for columns a spreadsheet cannot hold."""
    expressions = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, _NESTED):
            raise ValueError(
                f"Column {name} holds {dtype} values, which a spreadsheet cannot hold: choose "
                "Parquet for this extract, or leave the column out."
            )
        if isinstance(dtype, _TEXT_TYPES):
            expression = _escaped_text(name)
            if xlsx:
                expression = expression.str.replace_all(_XML_ILLEGAL, "\ufffd")
            expressions.append(expression)
        elif xlsx and dtype.is_float():
            expressions.append(pl.when(pl.col(name).is_finite()).then(pl.col(name)).alias(name))
        elif xlsx and isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            column = pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            expressions.append(column.alias(name))
    safe = frame.with_columns(expressions) if expressions else frame
    names = {name: _header(name, xlsx=xlsx) for name in frame.columns}
    if len(set(names.values())) != len(names):
        raise ValueError("Two columns would have the same name once made safe for spreadsheets.")
    return safe.rename(names)


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """``frame`` as a UTF-8 CSV a spreadsheet opens safely: a byte order mark (so Excel reads
    UTF-8) and text escaped against formula injection."""
    buffer = io.BytesIO()
    buffer.write("\ufeff".encode())
    _spreadsheet_safe(frame, xlsx=False).write_csv(buffer)
    return buffer.getvalue()


def _header(text: str, *, xlsx: bool) -> str:
    text = escape_formula(str(text))
    if xlsx:
        text = "".join("\ufffd" if _xml_illegal(char) else char for char in text)
    return text


def _xml_illegal(char: str) -> bool:
    return ord(char) < 0x20 and char not in "\t\n\r"


def _check_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in metadata.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError("Every item of an extract's metadata needs a name.")
        if not isinstance(value, str):
            raise ValueError(f"The extract's metadata item {name} must be text.")
        checked[name] = value
    return checked


@contextlib.contextmanager
def _written_atomically(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed to ``path`` when the block ends without an
    error, and removed otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.partial")
    try:
        yield temporary
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_extract(
    frame: pl.DataFrame, path: Path, *, fmt: str, metadata: Mapping[str, str]
) -> Path:
    """Write ``frame`` as an extract file in ``fmt`` (``csv``, ``xlsx`` or ``parquet``) with
    ``metadata`` inside it, and return the path written: ``path`` itself, except for ``csv``,
    which is a ZIP (CSV plus ``datapackage.json``) at ``path`` with the suffix ``.zip``."""
    if fmt not in EXTRACT_FORMATS:
        raise ValueError(f"An extract can be written as {', '.join(EXTRACT_FORMATS)}, not “{fmt}”.")
    checked = _check_metadata(metadata)
    path = Path(path)
    if fmt == "parquet":
        with _written_atomically(path) as temporary:
            frame.write_parquet(temporary, metadata=checked)
        return path
    if fmt == "xlsx":
        with _written_atomically(path) as temporary:
            _write_xlsx(frame, temporary, checked)
        return path
    target = path if path.suffix.lower() == ".zip" else path.with_suffix(".zip")
    with _written_atomically(target) as temporary:
        _write_csv_zip(frame, temporary, checked)
    return target


def _frictionless_field(name: str, dtype: pl.DataType) -> dict[str, Any]:
    if dtype.is_integer():
        kind = "integer"
    elif dtype.is_float() or isinstance(dtype, pl.Decimal):
        kind = "number"
    elif dtype == pl.Boolean:
        kind = "boolean"
    elif dtype == pl.Date:
        kind = "date"
    elif isinstance(dtype, pl.Datetime):
        return {"name": name, "type": "datetime", "format": "any"}
    elif dtype == pl.Time:
        return {"name": name, "type": "time", "format": "any"}
    elif isinstance(dtype, _TEXT_TYPES):
        kind = "string"
    else:
        kind = "any"
    return {"name": name, "type": kind}


def _data_package(frame: pl.DataFrame, metadata: Mapping[str, str]) -> dict[str, Any]:
    triggers = ", ".join(repr(char) for char in FORMULA_TRIGGERS)
    return {
        "profile": "tabular-data-package",
        "name": "accord-extract",
        "title": metadata.get("title") or "Extract from Accord",
        "accord": dict(metadata),
        "resources": [
            {
                "name": "extract",
                "path": "extract.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8-sig",
                "description": (
                    f"Text values and column names starting with {triggers} have a leading ' "
                    "added, so spreadsheet programs show them rather than run them as formulas."
                ),
                "dialect": {
                    "delimiter": ",",
                    "lineTerminator": "\r\n",
                    "quoteChar": '"',
                    "doubleQuote": True,
                    "header": True,
                },
                "schema": {
                    "fields": [
                        _frictionless_field(name, dtype) for name, dtype in frame.schema.items()
                    ],
                    "missingValues": [""],
                },
            }
        ],
    }


def _write_csv_zip(frame: pl.DataFrame, target: Path, metadata: Mapping[str, str]) -> None:
    safe = _spreadsheet_safe(frame, xlsx=False)
    # Level 1: three times faster than the default and hardly larger, pseudonyms being hex noise.
    with zipfile.ZipFile(
        target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL
    ) as archive:
        with archive.open("extract.csv", "w", force_zip64=True) as handle:
            handle.write(codecs.BOM_UTF8)
            if safe.height == 0:
                safe.write_csv(handle, line_terminator="\r\n")
            for number, part in enumerate(safe.iter_slices(CSV_SLICE_ROWS)):
                part.write_csv(handle, include_header=number == 0, line_terminator="\r\n")
        document = json.dumps(_data_package(safe, metadata), ensure_ascii=False, indent=2)
        archive.writestr("datapackage.json", document.encode())


def _write_xlsx(frame: pl.DataFrame, target: Path, metadata: Mapping[str, str]) -> None:
    from openpyxl import Workbook
    from openpyxl.packaging.custom import StringProperty

    if frame.height + 1 > XLSX_MAX_ROWS:
        raise ValueError(
            f"This extract has {frame.height:,} rows, more than an Excel sheet holds "
            f"({XLSX_MAX_ROWS - 1:,} below the header row). Choose CSV or Parquet instead."
        )
    safe = _spreadsheet_safe(frame, xlsx=True)
    workbook = Workbook(write_only=True)
    data = workbook.create_sheet(DATA_SHEET)
    data.append(safe.columns)
    for part in safe.iter_slices(XLSX_SLICE_ROWS):
        for row in part.iter_rows():
            data.append(row)
    about = workbook.create_sheet(ABOUT_SHEET)
    about.append(["Item", "Value"])
    for name, value in metadata.items():
        about.append([_header(name, xlsx=True), _header(value, xlsx=True)])
    properties = workbook.properties
    extract_id = metadata.get("extract_id")
    title = metadata.get("title") or (f"Extract {extract_id}" if extract_id else "")
    properties.title = _header(title or "Extract from Accord", xlsx=True)
    properties.subject = _header(metadata.get("purpose", "Extract from Accord"), xlsx=True)
    properties.creator = "Accord"
    for name, value in metadata.items():
        workbook.custom_doc_props.append(
            StringProperty(name=_header(name, xlsx=True), value=_header(value, xlsx=True))
        )
    workbook.save(target)
