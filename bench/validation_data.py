"""Generator for the validation benchmark: the reference 12-column file with injected errors.

    .venv/bin/python bench/validation_data.py --rows 1000000 [--seed 7] [--xlsx] [--force]

Builds the data of shared/reference/validation-and-disclosure-control.md Part A: 12 columns
(person_id, nhs_number, name, date_of_birth, postcode, uprn, la_code, ward_code, category,
count, event_date, notes) in which about 1% of rows carry exactly one injected error of 14
kinds, with a truth file listing every injected cell (row = spreadsheet row, the header being
row 1; column; kind). Also writes the standard the benchmark validates against,
bench/standards/reference-12.json, whose la_code list is the one the data draws from.

Everything is vectorised in Polars (numpy is not a dependency of Accord): each column is drawn
from ``hash(seed)`` of the global row number, as in vault_parquet.py, so a row's clean values do
not depend on how the file is chunked. Errors are injected per chunk of at most a million rows
with a seeded ``random.Random`` (about 10,000 values per chunk), and the chunks are appended to
the CSV one at a time, so 10M rows never sit in memory. Files are cached under bench/.data/,
keyed by rows and seed; a file is only renamed into place once complete.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import json
import math
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

BENCH = Path(__file__).resolve().parent
DATA_DIR = BENCH / ".data"
STANDARD_PATH = BENCH / "standards" / "reference-12.json"
GENERATOR_VERSION = 1  # part of the cache key: bump when the data would change
DEFAULT_SEED = 7
CHUNK_ROWS = 1_000_000
ERROR_RATE = 0.01

COLUMNS = (
    "person_id",
    "nhs_number",
    "name",
    "date_of_birth",
    "postcode",
    "uprn",
    "la_code",
    "ward_code",
    "category",
    "count",
    "event_date",
    "notes",
)

# The 14 kinds of injected error and the column each lands in. The reference lists twelve
# kinds; invalid dates and non-integers each go in two columns, which makes fourteen.
KIND_COLUMN: dict[str, str] = {
    "nhs_check_digit": "nhs_number",
    "nhs_non_numeric": "nhs_number",
    "duplicate_person_id": "person_id",  # both rows of each pair are errors
    "blank_name": "name",
    "invalid_date_of_birth": "date_of_birth",
    "invalid_event_date": "event_date",
    "bad_postcode": "postcode",
    "non_integer_uprn": "uprn",
    "non_integer_count": "count",
    "negative_count": "count",
    "la_code_not_in_list": "la_code",
    "bad_ward_code": "ward_code",
    "category_not_in_enum": "category",
    "notes_too_long": "notes",
}
KINDS = tuple(KIND_COLUMN)

INVALID_DATES = ("2001-02-30", "31/12/2001", "2001-13-01", "unknown", "20010101")
NON_INTEGERS = ("12.5", "abc", "1e3", "N/A")

# BS 7666 postcode, strict (identifiers-and-codes.md §2.4), on the space-stripped form.
POSTCODE_STRICT = (
    r"^(GIR0AA|[A-PR-UWYZ][0-9][0-9]?[0-9][ABD-HJLNP-UW-Z]{2}"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?[0-9][ABD-HJLNP-UW-Z]{2}"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW][0-9][ABD-HJLNP-UW-Z]{2}"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY][0-9][ABD-HJLNP-UW-Z]{2})$"
)
# The pattern's character classes, spelled out, to draw valid postcodes from.
PC_FIRST = "ABCDEFGHIJKLMNOPRSTUWYZ"  # [A-PR-UWYZ]
PC_SECOND = "ABCDEFGHKLMNOPQRSTUVWXY"  # [A-HK-Y]
PC_THIRD = "ABCDEFGHJKPSTUW"  # [A-HJKPSTUW] (A9A)
PC_FOURTH = "ABEHMNPRVWXY"  # [ABEHMNPRVWXY] (AA9A)
PC_INWARD = "ABDEFGHJLNPQRSTUWXYZ"  # [ABD-HJLNP-UW-Z]
DIGITS = "0123456789"

PERSON_ID_PATTERN = r"^P\d{10}$"
WARD_PATTERN = r"^E05\d{6}$"
NOTES_MAX = 200
DOB_RANGE = ("1900-01-01", "2030-12-31")
EVENT_RANGE = ("2000-01-01", "2030-12-31")
COUNT_RANGE = (0, 100_000)

# Synthetic local-authority list: 439 codes in the GSS E06/E07/E08/E09 style (not the ONS
# register). Codes beyond each block are well-formed but not on the list.
LA_BLOCKS = (("E06", 70), ("E07", 260), ("E08", 60), ("E09", 49))

FIRST_NAMES = (
    "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Mia", "Jack", "Ivy",
    "Muhammad", "Freya", "Leo", "Lily", "Arthur", "Florence", "Oscar", "Willow", "Charlie",
    "Rosie", "Siobhán", "Zoë", "José", "Anne-Marie", "D'Arcy", "Aoife", "Rhys", "Cerys",
    "Priya", "Kwame", "Olamide", "Mateusz", "Agnieszka", "Eilidh", "Ruairí", "Bethan",
    "Yusuf", "Fatima", "Chen", "Thi Thu",
)  # fmt: skip
SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards",
    "Hughes", "Green", "Hall", "O'Neill", "Smith-Jones", "Ní Bhriain", "van der Berg",
    "MacDonald", "Nguyễn", "Kowalski", "Okafor", "Patel", "Khan", "Ahmed", "Singh", "Begum",
    "Ó Súilleabháin", "Llewellyn", "ap Rhys", "Jones, Jr", "St. John", "Fitzgerald", "Lee",
)  # fmt: skip
NOTE_WORDS = (
    "visit", "follow-up", "referred", "carer", "present", "declined", "booked", "review",
    "GP", "letter", "sent", "awaiting", "assessment", "home", "phone", "call", "no", "answer",
    "£25", "café", "voucher", "issued", "pending", "discharge", "plan", "agreed", "with",
    "family", "housing", "officer", "notified", "re-assessed", "in", "March", "deferred,",
    '"urgent"', "see", "notes", "above;", "résumé", "update", "requested", "by", "school",
)  # fmt: skip


def la_codes() -> list[str]:
    """The 439 codes the la_code column draws from and the standard allows."""
    codes = [f"{prefix}{n:06d}" for prefix, count in LA_BLOCKS for n in range(1, count + 1)]
    assert len(codes) == 439
    return codes


def not_listed_la_code(rng: random.Random) -> str:
    """A well-formed GSS-style code that is not on the list."""
    choice = rng.randrange(5)
    if choice < 4:
        prefix, count = LA_BLOCKS[choice]
        return f"{prefix}{rng.randint(count + 1, 999):06d}"
    return rng.choice(("E10000002", "W06000001", "S12000033", "E12000007", "N09000003"))


# --- the standard -------------------------------------------------------------------------


def standard_descriptor() -> dict:
    """reference-12 in Accord's descriptor format (Table Schema + "accord" extras)."""
    iso = "ISO 8601 (YYYY-MM-DD) only"
    return {
        "name": "reference-12",
        "version": "1.0",
        "title": "Reference benchmark: twelve columns",
        "description": (
            "The 12-column file of the validation benchmark (validation-and-disclosure-control.md"
            " Part A). Written by bench/validation_data.py; the la_code list is synthetic."
        ),
        "accord": {"personalData": True, "rowDescription": "One row per person and event"},
        "fields": [
            {
                "name": "person_id",
                "title": "Person ID",
                "type": "string",
                "description": "The supplier's own person identifier: P and ten digits.",
                "example": "P0001234567",
                "constraints": {"required": True, "unique": True, "pattern": PERSON_ID_PATTERN},
            },
            {
                "name": "nhs_number",
                "title": "NHS number",
                "type": "string",
                "example": "9434765919",
                "constraints": {"required": True},
                "accord": {"identifier": "nhs_number"},
            },
            {
                "name": "name",
                "title": "Name",
                "type": "string",
                "constraints": {"required": True},
                "accord": {"personal": True},
            },
            {
                "name": "date_of_birth",
                "title": "Date of birth",
                "type": "date",
                "format": "default",
                "description": iso,
                "example": "1984-03-26",
                "constraints": {"minimum": DOB_RANGE[0], "maximum": DOB_RANGE[1]},
                "accord": {"personal": True},
            },
            {
                "name": "postcode",
                "title": "Postcode",
                "type": "string",
                "example": "SW1A 2AA",
                "accord": {"identifier": "postcode"},
            },
            {
                "name": "uprn",
                "title": "UPRN",
                "type": "string",
                "example": "100023336956",
                "accord": {"identifier": "uprn"},
            },
            {
                "name": "la_code",
                "title": "Local authority code",
                "type": "string",
                "description": "GSS code from the benchmark's synthetic list of 439.",
                "example": "E06000001",
                "constraints": {"enum": la_codes()},
            },
            {
                "name": "ward_code",
                "title": "Ward code",
                "type": "string",
                "example": "E05001234",
                "constraints": {"pattern": WARD_PATTERN},
            },
            {
                "name": "category",
                "title": "Category",
                "type": "string",
                "constraints": {"enum": ["A", "B", "C", "D"]},
            },
            {
                "name": "count",
                "title": "Count",
                "type": "integer",
                "constraints": {"minimum": COUNT_RANGE[0], "maximum": COUNT_RANGE[1]},
            },
            {
                "name": "event_date",
                "title": "Event date",
                "type": "date",
                "format": "default",
                "description": iso,
                "constraints": {"minimum": EVENT_RANGE[0], "maximum": EVENT_RANGE[1]},
            },
            {
                "name": "notes",
                "title": "Notes",
                "type": "string",
                "constraints": {"maxLength": NOTES_MAX},
            },
        ],
    }


def write_standard(path: Path = STANDARD_PATH) -> Path:
    """Write the standard (only if its text changed, so the file's timestamp stays put)."""
    text = json.dumps(standard_descriptor(), indent=2, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


# --- clean values, vectorised --------------------------------------------------------------


def _pick(options: list | str, h: pl.Expr, dtype: type[pl.DataType] = pl.String) -> pl.Expr:
    """One of ``options`` per row, chosen by the hash column ``h``."""
    options = list(options)
    return pl.lit(pl.Series(options, dtype=dtype)).gather((h % len(options)).cast(pl.Int64))


def _nhs_check(n9: pl.Expr) -> pl.Expr:
    """Modulus-11 check digit of the 9-digit number ``n9`` (10 means: never issued)."""
    total = pl.lit(0, dtype=pl.UInt64)
    for position in range(9):  # digit 1 (leftmost) has weight 10, digit 9 weight 2
        digit = (n9 // 10 ** (8 - position)) % 10
        total = total + digit * (10 - position)
    check = 11 - total % 11
    return pl.when(check == 11).then(0).otherwise(check)


def _date_text(start: str, end: str, h: pl.Expr) -> pl.Expr:
    first = dt.date.fromisoformat(start)
    span = (dt.date.fromisoformat(end) - first).days + 1
    epoch_days = (first - dt.date(1970, 1, 1)).days
    return ((h % span).cast(pl.Int32) + epoch_days).cast(pl.Date).cast(pl.String)


def _notes_pool(seed: int) -> list[str | None]:
    """256 notes: 40% blank, most of the rest short (so a row is about 125 bytes, as in the
    reference's 12 MB per 100k rows), a few up to 200 characters, four of exactly 200 with
    multi-byte characters (a byte-length check would wrongly reject them)."""
    rng = random.Random(f"notes:{seed}")  # noqa: S311 - synthetic data
    pool: list[str | None] = [None] * 102
    for number in range(154):
        band = rng.random()
        length = (
            200 if number % 40 == 0
            else rng.randint(1, 30) if band < 0.75
            else rng.randint(31, 100) if band < 0.95
            else rng.randint(101, 200)
        )  # fmt: skip
        pool.append(_text_of_length(rng, length, must_have="£é" if length == 200 else ""))
    return pool


def _text_of_length(rng: random.Random, length: int, must_have: str = "") -> str:
    words: list[str] = []
    while len(" ".join(words)) < length:
        words.append(rng.choice(NOTE_WORDS))
    text = (" ".join(words))[:length]
    if must_have:
        text = must_have + text[len(must_have) :]
    text = text.rstrip()
    return text + "x" * (length - len(text))  # no trailing space: trimming must not matter


def clean_frame(start: int, rows: int, seed: int) -> pl.DataFrame:
    """Rows ``start`` .. ``start + rows - 1`` of the file, all valid, every column text."""
    idx = pl.int_range(start, start + rows, dtype=pl.UInt64)

    def h(stream: int) -> pl.Expr:
        return idx.hash(seed * 1_000 + stream)

    # person_id: a bijection of the row number onto ten digits (7919813 is coprime with 10),
    # so ids are unique across any number of chunks but not in file order.
    person = ((idx * 7_919_813 + 1_234_567 + seed) % 10**10).cast(pl.String).str.zfill(10)

    # NHS number: 9 + 8 digits (the 999 range is never issued: synthetic), a check digit that
    # passes modulus 11; where it would be 10 the ninth digit is moved on by one.
    n9 = pl.lit(900_000_000, dtype=pl.UInt64) + h(1) % 100_000_000
    n9_alt = n9 - n9 % 10 + (n9 % 10 + 1) % 10
    n9 = pl.when(_nhs_check(n9) == 10).then(n9_alt).otherwise(n9)
    nhs = (n9 * 10 + _nhs_check(n9)).cast(pl.String)

    name = _pick(FIRST_NAMES, h(2)) + " " + _pick(SURNAMES, h(3))

    # Postcodes from the strict pattern's character classes, in the canonical form.
    form = h(4) % 100
    l1, l2 = _pick(PC_FIRST, h(5)), _pick(PC_SECOND, h(6))
    d1, d2 = _pick(DIGITS, h(7)), _pick(DIGITS, h(8))
    outward = (
        pl.when(form < 10).then(l1 + d1)  # A9
        .when(form < 25).then(l1 + d1 + d2)  # A99
        .when(form < 50).then(l1 + l2 + d1)  # AA9
        .when(form < 85).then(l1 + l2 + d1 + d2)  # AA99
        .when(form < 90).then(l1 + d1 + _pick(PC_THIRD, h(9)))  # A9A
        .otherwise(l1 + l2 + d1 + _pick(PC_FOURTH, h(9)))  # AA9A
    )  # fmt: skip
    inward = _pick(DIGITS, h(10)) + _pick(PC_INWARD, h(11)) + _pick(PC_INWARD, h(12))
    postcode = (
        pl.when(h(13) % 20_000 == 0).then(pl.lit("GIR 0AA")).otherwise(outward + " " + inward)
    )

    # UPRN 1..999,999,999,999: mostly 9-12 digits, some short; no leading zeros.
    lengths = (12,) * 6 + (11, 11, 11, 10, 10, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1)
    low = _pick([10 ** (n - 1) for n in lengths], h(14), pl.UInt64)  # smallest of that length
    uprn = (low + h(15) % (low * 9)).cast(pl.String)

    la = _pick(la_codes(), h(16))
    ward = "E05" + (h(17) % 1_000_000).cast(pl.String).str.zfill(6)
    category = _pick("ABCD", h(18))

    edge = h(19) % 5_000  # a few values on the boundaries of each range
    count = (
        pl.when(edge == 0).then(pl.lit("0"))
        .when(edge == 1).then(pl.lit(str(COUNT_RANGE[1])))
        .otherwise((h(20) % (COUNT_RANGE[1] + 1)).cast(pl.String))
    )  # fmt: skip
    dob = (
        pl.when(edge == 2).then(pl.lit(DOB_RANGE[0]))
        .when(edge == 3).then(pl.lit("2000-02-29"))
        .otherwise(_date_text("1920-01-01", "2023-12-31", h(21)))
    )  # fmt: skip
    event = (
        pl.when(edge == 4).then(pl.lit(EVENT_RANGE[1]))
        .when(edge == 5).then(pl.lit(EVENT_RANGE[0]))
        .otherwise(_date_text("2015-01-01", "2025-12-31", h(22)))
    )  # fmt: skip
    notes = _pick(_notes_pool(seed), h(23))

    return pl.select(
        person_id="P" + person,
        nhs_number=nhs,
        name=name,
        date_of_birth=dob,
        postcode=postcode,
        uprn=uprn,
        la_code=la,
        ward_code=ward,
        category=category,
        count=count,
        event_date=event,
        notes=notes,
    )


# --- injected errors ----------------------------------------------------------------------


def nhs_valid(text: str) -> bool:
    """Modulus 11 on a 10-digit string (scalar; used for injection and checks)."""
    if not re.fullmatch(r"[0-9]{10}", text):
        return False
    check = 11 - sum(int(d) * w for d, w in zip(text[:9], range(10, 1, -1), strict=True)) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(text[9])


def _bad_postcode(rng: random.Random, valid: str) -> str:
    choice = rng.randrange(4)
    if choice == 0:  # first letter never used: Q, V, X
        return rng.choice("QVX") + valid[1:]
    if choice == 1:  # inward letters never used: C, I, K, M, O, V
        return valid[:-1] + rng.choice("CIKMOV")
    if choice == 2:  # second letter never I, J, Z (AA9 9AA shape)
        return rng.choice(PC_FIRST) + rng.choice("IJZ") + f"{rng.randrange(10)} 1AB"
    return rng.choice(("SW1A 1A", "12345", "ABC 123", "SW1A1", "M1 1AAA", "NOT KNOWN", "E1 ABC"))


def _bad_ward(rng: random.Random) -> str:
    digits = f"{rng.randrange(10**6):06d}"
    return rng.choice(
        (
            "E05" + digits[:5],  # too short
            "E05" + digits + str(rng.randrange(10)),  # too long
            "E06" + digits,  # not a ward prefix
            "W05" + digits,  # Welsh ward: not allowed by this pattern
            "E05" + digits[:3] + "ABC",
        )
    )


def _injected(kind: str, rng: random.Random, valid: str | None) -> str | None:
    """A value for ``kind`` that breaks exactly that rule (``valid``: the clean value)."""
    if kind == "nhs_check_digit":
        assert valid is not None
        return valid[:9] + str((int(valid[9]) + rng.randint(1, 9)) % 10)
    if kind == "nhs_non_numeric":
        assert valid is not None
        if rng.random() < 0.8:
            at = rng.randrange(10)
            return valid[:at] + rng.choice("ABEOSXZ") + valid[at + 1 :]
        return rng.choice(("unknown", "NK", "9434765919X", "943-476-59I9"))
    if kind == "blank_name":
        return rng.choice(("", None, "   "))
    if kind in ("invalid_date_of_birth", "invalid_event_date"):
        return rng.choice(INVALID_DATES)
    if kind == "bad_postcode":
        assert valid is not None
        return _bad_postcode(rng, valid)
    if kind in ("non_integer_uprn", "non_integer_count"):
        return rng.choice(NON_INTEGERS)
    if kind == "negative_count":
        return f"-{rng.randint(1, 1000)}"
    if kind == "la_code_not_in_list":
        return not_listed_la_code(rng)
    if kind == "bad_ward_code":
        return _bad_ward(rng)
    if kind == "category_not_in_enum":
        return rng.choice(("E", "X", "Z", "AB", "0", "A+"))
    if kind == "notes_too_long":
        length = NOTES_MAX + 1 if rng.random() < 0.3 else rng.randint(NOTES_MAX + 1, 400)
        return _text_of_length(rng, length, must_have="é£" if rng.random() < 0.5 else "")
    raise ValueError(kind)


def inject(frame: pl.DataFrame, start: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Give about 1% of the rows exactly one error each; return the frame and its truth."""
    rows = frame.height
    rng = random.Random(f"inject:{seed}:{start}:{rows}")  # noqa: S311 - synthetic
    count = round(rows * ERROR_RATE)
    chosen = rng.sample(range(rows), count)
    kinds = [KINDS[i % len(KINDS)] for i in range(count)]
    rng.shuffle(kinds)
    duplicates = [r for r, k in zip(chosen, kinds, strict=True) if k == "duplicate_person_id"]
    if len(duplicates) % 2:  # pairs only: give the odd one another kind
        odd = chosen.index(duplicates.pop())
        kinds[odd] = "blank_name"

    updates: dict[str, tuple[list[int], list[str | None]]] = {c: ([], []) for c in COLUMNS}
    truth: list[tuple[int, str, str]] = []
    nhs = frame.get_column("nhs_number").gather(chosen).to_list()
    postcodes = frame.get_column("postcode").gather(chosen).to_list()
    for position, (row, kind) in enumerate(zip(chosen, kinds, strict=True)):
        column = KIND_COLUMN[kind]
        if kind == "duplicate_person_id":
            continue
        clean = {"nhs_number": nhs, "postcode": postcodes}.get(column)
        value = _injected(kind, rng, clean[position] if clean else None)
        updates[column][0].append(row)
        updates[column][1].append(value)
        truth.append((start + row + 2, column, kind))
    # duplicates: the second row of each pair takes the first row's person_id
    rng.shuffle(duplicates)
    ids = frame.get_column("person_id")
    for first, second in zip(duplicates[0::2], duplicates[1::2], strict=True):
        updates["person_id"][0].append(second)
        updates["person_id"][1].append(ids[first])
        truth.append((start + first + 2, "person_id", "duplicate_person_id"))
        truth.append((start + second + 2, "person_id", "duplicate_person_id"))

    columns = []
    for name in COLUMNS:
        series = frame.get_column(name)
        where, values = updates[name]
        if where:
            series = series.clone()
            series.scatter(where, pl.Series(values, dtype=pl.String))
        columns.append(series)
    truth_frame = pl.DataFrame(
        truth, schema={"row": pl.Int64, "column": pl.String, "kind": pl.String}, orient="row"
    ).sort("row", "column")
    return pl.DataFrame(columns), truth_frame


# --- files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    path: Path  # the CSV (or XLSX)
    truth: Path
    rows: int
    seed: int
    seconds: float  # time taken to generate it now; 0.0 when it came from the cache
    cached: bool


def _stem(rows: int, seed: int) -> str:
    return f"reference-12_{rows}rows_seed{seed}_v{GENERATOR_VERSION}"


def csv_paths(rows: int, seed: int) -> tuple[Path, Path]:
    stem = _stem(rows, seed)
    return DATA_DIR / f"{stem}.csv", DATA_DIR / f"{stem}.truth.csv"


def chunks(
    rows: int, seed: int, chunk_rows: int = CHUNK_ROWS
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """(data, truth) for each chunk of at most ``chunk_rows`` rows, in file order."""
    for start in range(0, rows, chunk_rows):
        size = min(chunk_rows, rows - start)
        yield inject(clean_frame(start, size, seed), start, seed)


def ensure_csv(
    rows: int, seed: int = DEFAULT_SEED, *, force: bool = False, quiet: bool = False
) -> Dataset:
    """The CSV and truth file for ``rows`` and ``seed``, generated unless already cached."""
    write_standard()
    path, truth_path = csv_paths(rows, seed)
    if path.exists() and truth_path.exists() and not force:
        return Dataset(path, truth_path, rows, seed, 0.0, True)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    partial, partial_truth = path.with_suffix(".csv.partial"), truth_path.with_suffix(".partial")
    count = math.ceil(rows / CHUNK_ROWS)
    progress = _progress(count, f"generating {rows:,} rows", quiet)
    truths = []
    with partial.open("wb") as handle:
        for number, (frame, truth) in enumerate(chunks(rows, seed)):
            frame.write_csv(handle, include_header=number == 0)
            truths.append(truth)
            progress.update(1)
    progress.close()
    pl.concat(truths).write_csv(partial_truth)
    partial.replace(path)
    partial_truth.replace(truth_path)
    seconds = time.perf_counter() - started
    return Dataset(path, truth_path, rows, seed, seconds, False)


def ensure_xlsx(
    rows: int = 100_000, seed: int = DEFAULT_SEED, *, force: bool = False, quiet: bool = False
) -> Dataset:
    """An XLSX of the same data as the ``rows`` CSV (same truth file), written by openpyxl in
    write-only mode. Cells are typed as a person's spreadsheet would hold them: valid ISO
    dates as date cells, whole-number counts as numbers; identifiers, codes and every other
    value (including the injected bad dates and non-integers) as text."""
    source = ensure_csv(rows, seed, quiet=quiet)
    path = source.path.with_suffix(".xlsx")
    if path.exists() and not force:
        return Dataset(path, source.truth, rows, seed, 0.0, True)
    from openpyxl import Workbook

    started = time.perf_counter()
    frame = pl.read_csv(source.path, infer_schema=False)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    sheet.append(list(frame.columns))
    date_columns = [frame.columns.index(c) for c in ("date_of_birth", "event_date")]
    count_column = frame.columns.index("count")
    progress = _progress(rows, "writing xlsx", quiet)
    for number, row in enumerate(frame.iter_rows()):
        cells: list[object] = list(row)
        for i in date_columns:
            cells[i] = _as_date(cells[i])
        if cells[count_column] is not None and re.fullmatch(r"-?\d+", cells[count_column]):
            cells[count_column] = int(cells[count_column])
        sheet.append(cells)
        if number % 10_000 == 9_999:
            progress.update(10_000)
    progress.close()
    partial = path.with_suffix(".xlsx.partial")
    workbook.save(partial)
    partial.replace(path)
    return Dataset(path, source.truth, rows, seed, time.perf_counter() - started, False)


def _as_date(text: str | None) -> object:
    if text is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text
    year, month, day = map(int, text.split("-"))
    if 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]:
        return dt.date(year, month, day)
    return text


class _Quiet:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, desc: str, quiet: bool) -> Any:
    if quiet:
        return _Quiet()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False)


def read_truth(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, schema={"row": pl.Int64, "column": pl.String, "kind": pl.String})


# --- comparison with the truth file ---------------------------------------------------------


@dataclass
class Comparison:
    """Error cells a validator reported, against the truth file, by (row, column)."""

    per_kind: pl.DataFrame  # kind, column, injected, found, missed
    missed: pl.DataFrame  # truth rows not reported
    false_positives: pl.DataFrame  # reported cells not in the truth
    unplaced: pl.DataFrame  # reported errors with no row or no column (file-level)

    @property
    def exact(self) -> bool:
        return (
            self.missed.is_empty()
            and self.false_positives.is_empty()
            and (self.unplaced.is_empty())
        )

    @property
    def injected(self) -> int:
        return int(self.per_kind["injected"].sum())

    @property
    def found(self) -> int:
        return int(self.per_kind["found"].sum())

    def show(self, label: str, examples: int = 5) -> None:
        print(f"\n{label}: injected error cells found, per kind")
        print(f"  {'kind':<24} {'column':<14} {'injected':>9} {'found':>9} {'missed':>7}")
        for kind, column, injected, found, missed in self.per_kind.iter_rows():
            print(f"  {kind:<24} {column:<14} {injected:>9,} {found:>9,} {missed:>7,}")
        missed = self.injected - self.found
        print(f"  {'overall':<24} {'':<14} {self.injected:>9,} {self.found:>9,} {missed:>7,}")
        print(f"  false positives (reported cells not injected): {self.false_positives.height:,}")
        if not self.false_positives.is_empty():
            keys = [c for c in ("field", "rule", "type") if c in self.false_positives.columns]
            print(self.false_positives.group_by(keys).len().sort("len", descending=True))
            print(self.false_positives.head(examples))
        if not self.missed.is_empty():
            print(f"  missed, first {examples}:")
            print(self.missed.head(examples))
        if not self.unplaced.is_empty():
            print(f"  {self.unplaced.height:,} errors not on a cell (no row or column):")
            print(self.unplaced.head(examples))
        if self.exact:
            print(f"{label}: every injected error found, no false positives")
        else:
            print(
                f"{label}: DIFFERS from the truth: {missed:,} missed, "
                f"{self.false_positives.height:,} false positives, "
                f"{self.unplaced.height:,} errors not on a cell"
            )


def compare(found: pl.DataFrame, truth: pl.DataFrame) -> Comparison:
    """Compare reported errors (columns ``row``: spreadsheet row, ``field``: column name, plus
    any others, e.g. rule and value) with the truth file, cell by cell. A cell reported by
    several rules counts once."""
    placed = pl.col("row").is_not_null() & pl.col("field").is_not_null()
    unplaced = found.filter(~placed)
    cells = found.filter(placed).unique(["row", "field"], keep="first", maintain_order=True)
    keys = truth.select("row", pl.col("column").alias("field"), "kind")
    marked = keys.join(
        cells.select("row", "field", pl.lit(True).alias("hit")), on=["row", "field"], how="left"
    ).with_columns(pl.col("hit").fill_null(False))
    per_kind = (
        marked.group_by("kind", "field", maintain_order=True)
        .agg(
            pl.len().alias("injected"),
            pl.col("hit").sum().alias("found"),
        )
        .with_columns(
            (pl.col("injected") - pl.col("found")).alias("missed"),
            pl.col("kind").replace_strict({k: i for i, k in enumerate(KINDS)}).alias("order"),
        )
        .sort("order")
        .select("kind", pl.col("field").alias("column"), "injected", "found", "missed")
    )
    return Comparison(
        per_kind=per_kind,
        missed=marked.filter(~pl.col("hit")).drop("hit").rename({"field": "column"}),
        false_positives=cells.join(keys, on=["row", "field"], how="anti"),
        unplaced=unplaced,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--xlsx", action="store_true", help="also write the XLSX of these rows")
    parser.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = parser.parse_args()
    data = ensure_csv(args.rows, args.seed, force=args.force)
    print(
        f"{data.path} ({data.path.stat().st_size / 1e6:,.1f} MB), truth {data.truth}: "
        + ("cached" if data.cached else f"generated in {data.seconds:.1f} s")
    )
    if args.xlsx:
        book = ensure_xlsx(args.rows, args.seed, force=args.force)
        print(
            f"{book.path} ({book.path.stat().st_size / 1e6:,.1f} MB): "
            + ("cached" if book.cached else f"written in {book.seconds:.1f} s")
        )
    print(f"standard: {STANDARD_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
