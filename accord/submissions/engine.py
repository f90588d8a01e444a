"""The validation engine: a standard compiled into Polars expressions, run over a file in batches.

How a file is checked:

1. :func:`accord.submissions.reading.open_table` finds the header (past title rows), reads every
   cell as text and hands over batches with the spreadsheet row number of each row.
2. The file's headers are matched to the standard's columns by name, title or alias, ignoring
   case, spacing and punctuation.
3. Each batch runs two vectorised passes: the first cleans every column (trim, blank is missing,
   identifiers and dates normalised); the second gives each cell the number of the *first* rule
   it breaks, in the order the column's rules are listed (required, then format, then check
   digit, then allowed values and ranges), or null. No Python runs per row.
4. Only the failing rows are unpivoted into the long problem table, where each problem gets its
   rule id and a plain-English message naming the row and column the user sees.
5. Uniqueness (``unique`` columns and the primary key) is checked once all batches are read, so
   a duplicate in the last row is found against the first.
6. On request (``keep_rows=True``, for submissions), the cleaned values of stage 2 are kept, cast
   to each field's type, and handed back as one typed frame (:attr:`ValidationReport.rows_frame`).

Memory stays bounded by the batch size (250,000 rows by default) plus the key columns kept for
the uniqueness check, so a national file is checked in the same way as a small one. Distinct
values per column are counted exactly for small files and estimated for large ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from accord.standards import checks, codelists
from accord.standards.cells import NUMBER_PATTERN
from accord.standards.schema import Field, Standard

from .exceptions import UnusableFile
from .reading import Limits, Table, open_table

DEFAULT_BATCH_ROWS = 250_000  # measured: as fast as 1M per batch, and a quarter of the memory
EXACT_DISTINCT_ROWS = 200_000  # count distinct values exactly up to here, then estimate
# Datetimes typed without an offset are UK civil time (the platform's TIME_ZONE); all are kept
# in UTC, as Django keeps them.
LOCAL_TIME_ZONE = "Europe/London"
ROW = "__row__"  # in rows_frame: the row number the spreadsheet shows, as in problems
VALID = "__valid__"  # in rows_frame: false when the row has any error-severity problem
PROBLEM_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "column": pl.Utf8(),
    "letter": pl.Utf8(),
    "field": pl.Utf8(),
    "rule": pl.Utf8(),
    "severity": pl.Utf8(),
    "value": pl.Utf8(),
    "message": pl.Utf8(),
}

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Step:
    """One rule as compiled for one column."""

    rule: str
    fails: pl.Expr
    message: str
    severity: str = "error"


@dataclass(frozen=True)
class Column:
    """A standard's column as found in the file."""

    field: Field
    source: str  # positional column name in the batch ("c3")
    header: str  # the header as the file has it
    letter: str  # spreadsheet column letter


@dataclass
class ColumnQuality:
    field: str
    title: str
    column: str | None
    letter: str | None
    present: int = 0
    valid: int = 0
    distinct: int = 0
    distinct_approximate: bool = False
    rows: int = 0

    @property
    def completeness(self) -> float | None:
        return self.present / self.rows if self.rows and self.column is not None else None

    @property
    def validity(self) -> float | None:
        return self.valid / self.present if self.present else None


@dataclass(frozen=True)
class FileInfo:
    name: str
    kind: str
    size_bytes: int
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    header_row: int


@dataclass
class ValidationReport:
    """What the engine found: counts, the long problem table and per-column quality."""

    standard: Standard
    file: FileInfo
    rows: int
    valid_rows: int
    problems: pl.DataFrame
    columns: list[ColumnQuality] = field(default_factory=list)
    # With keep_rows=True: every row of the file, in file order, as clean typed values (see
    # rows_schema); None otherwise.
    rows_frame: pl.DataFrame | None = None

    @property
    def errors(self) -> pl.DataFrame:
        return self.problems.filter(pl.col("severity") == "error")

    @property
    def warnings(self) -> pl.DataFrame:
        return self.problems.filter(pl.col("severity") == "warning")

    @property
    def is_valid(self) -> bool:
        return self.errors.height == 0

    def by_rule(self) -> pl.DataFrame:
        """Problems grouped by rule and column, with counts and the first example, most first."""
        if self.problems.is_empty():
            return pl.DataFrame(
                schema={
                    "severity": pl.Utf8,
                    "rule": pl.Utf8,
                    "field": pl.Utf8,
                    "column": pl.Utf8,
                    "count": pl.UInt32,
                    "example": pl.Utf8,
                    "first_row": pl.Int64,
                }
            )
        return (
            self.problems.group_by(["severity", "rule", "field", "column"], maintain_order=True)
            .agg(
                pl.len().alias("count"),
                pl.col("message").first().alias("example"),
                pl.col("row").min().alias("first_row"),
            )
            .sort(["severity", "count"], descending=[False, True])
        )


def header_key(text: str) -> str:
    """A header reduced to letters and digits, lower case: "NHS No." and "nhs_no" match."""
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def header_lookup(standard: Standard) -> dict[str, str]:
    """Every accepted spelling of each column (name, title, aliases) → the field name."""
    lookup: dict[str, str] = {}
    for spec in standard.fields:
        for spelling in (spec.name, spec.title, *spec.aliases):
            lookup.setdefault(header_key(spelling), spec.name)
    return lookup


def header_score(standard: Standard) -> Callable[[list[str]], int]:
    lookup = header_lookup(standard)

    def score(cells: list[str]) -> int:
        return len({lookup[key] for key in map(header_key, cells) if key in lookup})

    return score


def validate_file(
    source: str | Path,
    standard: Standard,
    *,
    progress: Progress | None = None,
    limits: Limits | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    display_name: str | None = None,
    keep_rows: bool = False,
) -> ValidationReport:
    """Validate the file at ``source`` against ``standard``.

    With ``keep_rows``, the report's ``rows_frame`` holds every row of the file as the engine
    cleaned it, typed (see :func:`rows_schema`); otherwise it is None and nothing is kept.

    Raises :class:`UnusableFile` when the file cannot be checked at all (not a spreadsheet, a
    zip bomb, the wrong standard, ...); everything else is a problem in the report.
    """
    with open_table(
        source, header_score=header_score(standard), limits=limits or Limits()
    ) as table:
        return _validate_table(table, standard, progress, batch_rows, display_name, keep_rows)


def field_dtype(spec: Field) -> pl.DataType:
    """The Polars type of a field's clean values: text (identifiers in canonical form) for
    strings, Int64, Float64, Boolean, Date, and Datetime in UTC."""
    if spec.type == "integer":
        return pl.Int64()
    if spec.type == "number":
        return pl.Float64()
    if spec.type == "boolean":
        return pl.Boolean()
    if spec.type == "date":
        return pl.Date()
    if spec.type == "datetime":
        return pl.Datetime("us", "UTC")
    return pl.String()


def rows_schema(standard: Standard) -> dict[str, pl.DataType]:
    """The columns of ``ValidationReport.rows_frame``: ``__row__`` (Int64), one per field of
    the standard (named by the field, in the standard's order) and ``__valid__`` (Boolean)."""
    return {
        ROW: pl.Int64(),
        **{spec.name: field_dtype(spec) for spec in standard.fields},
        VALID: pl.Boolean(),
    }


def _validate_table(
    table: Table,
    standard: Standard,
    progress: Progress | None,
    batch_rows: int,
    display_name: str | None,
    keep_rows: bool = False,
) -> ValidationReport:
    columns, file_problems = _match_columns(table, standard)
    compiled = _compile(columns)
    info = FileInfo(
        name=display_name or "",
        kind=table.kind,
        size_bytes=table.size_bytes,
        encoding=table.encoding,
        delimiter=table.delimiter,
        sheet=table.sheet_name,
        header_row=table.header_row,
    )
    quality = {
        spec.name: ColumnQuality(field=spec.name, title=spec.title, column=None, letter=None)
        for spec in standard.fields
    }
    for column in columns:
        quality[column.field.name].column = column.header
        quality[column.field.name].letter = column.letter
    hashes: dict[str, list[pl.Series]] = {c.field.name: [] for c in columns}
    key_parts: list[pl.DataFrame] = []
    unique_keys = _unique_keys(standard, columns)
    problem_parts: list[pl.DataFrame] = [file_problems]
    failing_rows: list[pl.Series] = []
    rows = 0
    key_columns = ["__row__", *[f"__v_{name}" for name in _key_fields(unique_keys)]]
    plan = _rows_plan(compiled) if keep_rows else None
    row_parts: list[pl.DataFrame] = []
    for batch in table.batches(batch_rows):
        rows += batch.height
        checked_parts = _check_batch(batch, compiled)
        if plan is not None:
            row_parts.append(_batch_rows(checked_parts, plan))
        for checked, skip in checked_parts:
            problems = _problems(checked, compiled, skip)
            problem_parts.append(problems)
            failing_rows.append(problems.filter(pl.col("severity") == "error")["row"].unique())
            _tally(checked, columns, quality, hashes, rows, skip)
            if unique_keys:
                keys = checked.select(key_columns)
                if skip is not None:
                    keys = keys.filter(~checked[skip])
                key_parts.append(keys)
        if progress:
            progress(rows, table.estimated_rows)
    duplicates = _duplicates(key_parts, unique_keys, columns)
    problem_parts.append(duplicates)
    failing_rows.append(duplicates["row"])
    problems = (
        pl.concat(problem_parts, how="vertical")
        .with_columns(pl.col("letter").str.len_chars().alias("__width"))
        .sort(["row", "__width", "letter"], nulls_last=False)  # B before AA, as in a sheet
        .drop("__width")
    )
    bad_rows = pl.concat(failing_rows).drop_nulls().n_unique() if failing_rows else 0
    missing_required = file_problems.filter(pl.col("rule") == "missing_column").height > 0
    if missing_required:  # every row lacks a value the standard requires
        bad_rows = rows
    for name, parts in hashes.items():
        if parts:
            quality[name].distinct = pl.concat(parts).n_unique()
    for entry in quality.values():
        entry.rows = rows
    rows_frame = None
    if keep_rows:
        invalid = pl.concat(failing_rows).drop_nulls() if failing_rows else None
        rows_frame = _rows_frame(standard, row_parts, invalid, all_invalid=missing_required)
    return ValidationReport(
        standard=standard,
        file=info,
        rows=rows,
        valid_rows=rows - bad_rows,
        problems=problems,
        columns=list(quality.values()),
        rows_frame=rows_frame,
    )


# --- matching the file's headers to the standard -------------------------------------------


def _match_columns(table: Table, standard: Standard) -> tuple[list[Column], pl.DataFrame]:
    lookup = header_lookup(standard)
    found: dict[str, Column] = {}
    problems: list[dict[str, object]] = []
    for position, (header, letter) in enumerate(zip(table.headers, table.letters, strict=True)):
        name = lookup.get(header_key(header))
        if name is None:
            problems.append(
                _file_problem(
                    table,
                    header,
                    letter,
                    None,
                    "unknown_column",
                    "warning",
                    f"Column {letter} '{header}' is not part of the {standard.title} standard, "
                    "so Accord ignores it. If it should be one of the standard's columns, "
                    "rename the header to match the template.",
                )
            )
            continue
        if name in found:
            first = found[name]
            problems.append(
                _file_problem(
                    table,
                    header,
                    letter,
                    name,
                    "duplicate_column",
                    "error",
                    f"Columns {first.letter} '{first.header}' and {letter} '{header}' are both "
                    f"the '{standard.field(name).title}' column. Accord checked column "
                    f"{first.letter}; delete or rename the other.",
                )
            )
            continue
        found[name] = Column(standard.field(name), f"c{position}", header, letter)
    required = [spec for spec in standard.fields if spec.required]
    matched_required = sum(1 for spec in required if spec.name in found)
    if not found or (
        len(found) < math.ceil(len(standard.fields) / 2)
        and matched_required < math.ceil(len(required) / 2)
    ):
        seen = ", ".join(f"'{h}'" for h in table.headers[:8]) or "none"
        raise UnusableFile(
            "wrong_standard",
            f"This file does not look like a {standard.title} file: Accord recognised "
            f"{len(found)} of the standard's {len(standard.fields)} columns. The headers it "
            f"found (row {table.header_row}) were {seen}. Check you chose the right standard, "
            "or download its template and copy your data into it.",
        )
    for spec in standard.fields:
        if spec.name in found:
            continue
        if spec.required:
            problems.append(
                _file_problem(
                    table,
                    spec.title,
                    None,
                    spec.name,
                    "missing_column",
                    "error",
                    f"The file has no '{spec.title}' column ({spec.name}), which the standard "
                    f"requires. Add it to the header row (row {table.header_row}) and fill it "
                    "in for every row.",
                )
            )
    frame = pl.DataFrame(problems, schema=PROBLEM_SCHEMA) if problems else _empty_problems()
    return list(found.values()), frame


def _file_problem(
    table: Table,
    header: str,
    letter: str | None,
    name: str | None,
    rule: str,
    severity: str,
    message: str,
) -> dict[str, object]:
    return {
        "row": table.header_row,
        "column": header,
        "letter": letter,
        "field": name,
        "rule": rule,
        "severity": severity,
        "value": None,
        "message": message,
    }


def _empty_problems() -> pl.DataFrame:
    return pl.DataFrame(schema=PROBLEM_SCHEMA)


# --- compiling a column's rules --------------------------------------------------------------


@dataclass(frozen=True)
class Cleaning:
    """How stage 2 derives a column's clean value from its trimmed text.

    ``value`` gives the clean value for any row. Where ``canonical`` is set, rows it holds for
    take ``fast`` instead (the text itself unless given), and only the rest — in most files a
    handful — go through ``value``: cleaning every row of a national file costs more than all
    its rules. A column may also carry a ``status`` (dates: which date rule fails), with its
    own ``status_fast``, which may read the value column.
    """

    value: pl.Expr
    canonical: pl.Expr | None = None
    fast: pl.Expr | None = None
    status: pl.Expr | None = None
    status_fast: pl.Expr | None = None


@dataclass(frozen=True)
class Compiled:
    columns: list[Column]
    text: list[pl.Expr]  # the raw column of each field, for stage 1 (see _text_stage)
    clean: list[Cleaning]  # stage 2: "__v_<field>" cleaned values (see _clean_stage)
    codes: list[pl.Expr]  # stage 3: "__e_<field>" index of the first failing step, or null
    rules: pl.DataFrame  # field, code, rule, severity, template


def _compile(columns: list[Column]) -> Compiled:
    text: list[pl.Expr] = []
    clean: list[Cleaning] = []
    codes: list[pl.Expr] = []
    rule_rows: list[dict[str, object]] = []
    for column in columns:
        spec = column.field
        text.append(pl.col(column.source))
        cleaning, steps = _steps(spec, pl.col(f"__t_{spec.name}"), pl.col(f"__v_{spec.name}"))
        clean.append(cleaning)
        if not steps:
            continue
        conditions = []
        for code, step in enumerate(steps, start=1):
            rule_rows.append(
                {
                    "field": spec.name,
                    "code": code,
                    "rule": step.rule,
                    "severity": step.severity,
                    "template": spec.messages.get(step.rule, step.message),
                }
            )
            conditions.append((step.fails.fill_null(False), pl.lit(code, dtype=pl.UInt8)))
        first, then = conditions[0]
        chain: Any = pl.when(first).then(then)  # a when-then chain: first failing rule wins
        for condition, then in conditions[1:]:
            chain = chain.when(condition).then(then)
        codes.append(chain.otherwise(pl.lit(None, dtype=pl.UInt8)).alias(f"__e_{spec.name}"))
    rules = (
        pl.DataFrame(
            rule_rows,
            schema={
                "field": pl.Utf8,
                "code": pl.UInt8,
                "rule": pl.Utf8,
                "severity": pl.Utf8,
                "template": pl.Utf8,
            },
        )
        if rule_rows
        else pl.DataFrame(
            schema={
                "field": pl.Utf8,
                "code": pl.UInt8,
                "rule": pl.Utf8,
                "severity": pl.Utf8,
                "template": pl.Utf8,
            }
        )
    )
    return Compiled(columns, text, clean, codes, rules)


INTEGER = r"^[+-]?\d+$"


def _steps(spec: Field, present: pl.Expr, value: pl.Expr) -> tuple[Cleaning, list[Step]]:
    """How to clean a column, and its ordered rules.

    ``present`` is the trimmed text (null when blank); ``value`` is the cleaned value stage 2
    produces. Type rules test the text; identifier rules, allowed values and ranges test the
    cleaned value.
    """
    steps: list[Step] = []
    title = spec.title
    if spec.required:
        steps.append(
            Step(
                "required",
                present.is_null(),
                f"'{title}' is empty — every row needs one. Fill it in, or delete the row if "
                "it should not be there.",
            )
        )
    # Stage 1 trims spaces; values that need cleaning also lose tabs and non-breaking spaces.
    cleaned = present.str.strip_chars(checks.WHITESPACE)
    canonical: list[pl.Expr] = []  # conditions under which the text is already clean
    fast_path = True
    typed: pl.Expr | None = None
    status_name = value.meta.output_name().replace("__v_", "__s_", 1)
    if spec.type == "integer":
        steps.append(
            Step(
                "integer",
                ~present.str.contains(INTEGER),
                f"{{value}} is not a whole number. '{title}' takes whole numbers only, "
                "like 12 — no decimals, letters, spaces or symbols.",
            )
        )
        typed = value.cast(pl.Int64, strict=False)
    elif spec.type == "number":
        steps.append(
            Step(
                "number",
                ~present.str.contains(NUMBER_PATTERN),
                f"{{value}} is not a number. '{title}' takes numbers like 12 or 12.5, without "
                "units, commas or symbols.",
            )
        )
        typed = value.cast(pl.Float64, strict=False)
    elif spec.type == "boolean":
        lowered = cleaned.str.to_lowercase()
        cleaned = (
            pl.when(lowered.is_in(list(spec.true_values)))
            .then(pl.lit("true"))
            .when(lowered.is_in(list(spec.false_values)))
            .then(pl.lit("false"))
            .otherwise(cleaned)
        )
        canonical.append(present.is_in(["true", "false"]))
        allowed = " or ".join(f"'{v}'" for v in (spec.true_values[0], spec.false_values[0]))
        steps.append(
            Step(
                "boolean",
                ~value.is_in(["true", "false"]),
                f"{{value}} is not a yes/no answer. Enter {allowed} in '{title}'.",
            )
        )
    elif spec.type == "date":
        excel = spec.format == "any"
        date_rules = {rule.id: rule for rule in checks.date_rules(spec.format, excel_serial=excel)}
        status = pl.col(status_name)
        for rule_id, code in (
            ("date_format", checks.DATE_NO_LAYOUT),
            ("date_real", checks.DATE_NOT_REAL),
        ):
            rule = date_rules[rule_id]
            steps.append(Step(rule.id, status == code, rule.message, rule.severity))
        typed = value
        not_real = pl.lit(checks.DATE_NOT_REAL, dtype=pl.UInt8)
        dates = Cleaning(
            value=checks.parse_date_expr(present, spec.format, excel_serial=excel),
            canonical=present.is_null() | present.str.contains(checks.ISO_DATE_CANONICAL),
            fast=checks.iso_date_fast(present),
            status=checks.date_status(present, spec.format, excel_serial=excel),
            status_fast=pl.when(present.is_not_null() & value.is_null())
            .then(not_real)
            .otherwise(pl.lit(checks.DATE_OK, dtype=pl.UInt8)),
        )
        steps.extend(_range_steps(spec, typed))
        return dates, steps
    elif spec.type == "datetime":
        cleaned = checks.clean_datetime(present, spec.format)
        fast_path = False
        for rule in checks.datetime_rules(spec.format):
            steps.append(Step(rule.id, rule.fails(present), rule.message, rule.severity))
    if spec.identifier is not None:
        kind = checks.IDENTIFIER_TYPES[spec.identifier]
        cleaned = kind.clean(cleaned)
        if kind.canonical is None:
            fast_path = False
        else:
            canonical.append(present.str.contains(kind.canonical))
        options = checks.IdentifierOptions(gss_entities=spec.gss_entities)
        for rule in kind.rules(options):
            steps.append(Step(rule.id, rule.fails(value), rule.message, rule.severity))
    if spec.enum is not None:
        by_folded = {v.casefold(): v for v in spec.enum}
        folded = cleaned.str.to_lowercase()
        cleaned = (
            pl.when(folded.is_in(list(by_folded)))
            .then(folded.replace_strict(by_folded, default=None, return_dtype=pl.Utf8))
            .otherwise(cleaned)
        )
        canonical.append(present.is_in(list(spec.enum)))
        shown = ", ".join(spec.enum[:12]) + (" …" if len(spec.enum) > 12 else "")
        steps.append(
            Step(
                "enum",
                ~value.is_in(list(spec.enum)),
                f"{{value}} is not one of the values allowed in '{title}': {shown}. "
                "Choose one from the template's dropdown.",
            )
        )
    if spec.code_list is not None:
        code_list = codelists.load(spec.code_list)
        steps.append(
            Step(
                "code_list",
                codelists.membership_fails(spec.code_list, value),
                f"{{value}} is not in the {code_list.title} ({code_list.vintage}). Check the "
                "code, or whether the area has changed since.",
            )
        )
    if spec.pattern is not None:
        steps.append(
            Step(
                "pattern",
                ~value.str.contains(f"^(?:{spec.pattern})$"),
                f"{{value}} is not in the form '{title}' needs"
                + (f", like {spec.example}." if spec.example else "."),
            )
        )
    if spec.min_length is not None:
        steps.append(
            Step(
                "min_length",
                value.str.len_chars() < spec.min_length,
                f"'{title}' must be at least {spec.min_length} characters long.",
            )
        )
    if spec.max_length is not None:
        steps.append(
            Step(
                "max_length",
                value.str.len_chars() > spec.max_length,
                f"'{title}' is longer than the {spec.max_length} characters allowed. Shorten it.",
            )
        )
    if typed is not None:
        steps.extend(_range_steps(spec, typed))
    if not fast_path:  # every row through the full cleaning
        return Cleaning(value=cleaned), steps
    if not canonical:  # nothing to clean: the trimmed text is the value
        return Cleaning(value=present), steps
    already_clean = present.is_null() | pl.all_horizontal(canonical)
    return Cleaning(value=cleaned, canonical=already_clean), steps


def _range_steps(spec: Field, typed: pl.Expr) -> Iterable[Step]:
    title = spec.title
    if spec.minimum is not None:
        low = _bound(spec, spec.minimum)
        yield Step(
            "minimum",
            typed < low,
            f"{{value}} is below the lowest value allowed in '{title}', {spec.minimum}.",
        )
    if spec.maximum is not None:
        high = _bound(spec, spec.maximum)
        yield Step(
            "maximum",
            typed > high,
            f"{{value}} is above the highest value allowed in '{title}', {spec.maximum}.",
        )


def _bound(spec: Field, bound: object) -> pl.Expr:
    if spec.type == "date":
        return pl.lit(str(bound)).str.to_date("%Y-%m-%d")
    return pl.lit(bound)


# --- running a batch -------------------------------------------------------------------------


def _text_stage(batch: pl.DataFrame, compiled: Compiled) -> list[pl.Expr]:
    """Stage 1: each field's text, trimmed, with blanks as null: "__t_<field>".

    Trimming copies every string, so it is done only for columns that need it in this batch,
    found with cheap byte-level tests (most columns of most files need neither).
    """
    sources = [c.source for c in compiled.columns]
    if not sources:
        return []
    probes = batch.select([_needs_trim(pl.col(name)).alias(name) for name in sources]).row(
        0, named=True
    )
    stage = []
    for column in compiled.columns:
        raw = pl.col(column.source)
        if probes[column.source]:
            trimmed = raw.str.strip_chars()
            raw = pl.when(trimmed.str.len_bytes() > 0).then(trimmed)
        stage.append(raw.alias(f"__t_{column.field.name}"))
    return stage


def _needs_trim(raw: pl.Expr) -> pl.Expr:
    """Whether any value is blank or starts or ends with a space: prefix and suffix byte
    comparisons, several times cheaper than a regex or a trim. Rarer edges (tabs, non-breaking
    spaces) are trimmed where a column's values are cleaned (identifiers, codes, dates)."""
    return ((raw.str.len_bytes() == 0) | raw.str.starts_with(" ") | raw.str.ends_with(" ")).any()


SLOW = "__slow"  # the rows of a batch whose values the fast path does not cover


def _fast_exprs(compiled: Compiled) -> tuple[list[pl.Expr], list[pl.Expr], pl.Expr | None]:
    """Stage 2 as one pass: each "__v_<field>" by its fast path (or its full cleaning where it
    has none), each date's "__s_<field>", and the SLOW flag: rows some fast path misses."""
    values, statuses, misses = [], [], []
    for column, cleaning in zip(compiled.columns, compiled.clean, strict=True):
        name = column.field.name
        present = pl.col(f"__t_{name}")
        if cleaning.canonical is None:
            values.append(cleaning.value.alias(f"__v_{name}"))
        else:
            fast = present if cleaning.fast is None else cleaning.fast
            values.append(fast.alias(f"__v_{name}"))
            misses.append(~cleaning.canonical)
        if cleaning.status is not None:
            status = cleaning.status if cleaning.canonical is None else cleaning.status_fast
            assert status is not None
            statuses.append(status.alias(f"__s_{name}"))
    slow = pl.any_horizontal(misses) if misses else None
    return values, statuses, slow


def _full_exprs(compiled: Compiled) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Stage 2 for rows the fast path misses: every column's full cleaning."""
    values, statuses = [], []
    for column, cleaning in zip(compiled.columns, compiled.clean, strict=True):
        name = column.field.name
        values.append(cleaning.value.alias(f"__v_{name}"))
        if cleaning.status is not None:
            statuses.append(cleaning.status.alias(f"__s_{name}"))
    return values, statuses


def _check_batch(batch: pl.DataFrame, compiled: Compiled) -> list[tuple[pl.DataFrame, str | None]]:
    """All three stages over a batch in one query, by each column's fast path; then the same
    again, with full cleaning, over the few rows the fast paths miss.

    Returns (frame, rows to skip): the whole batch, whose SLOW rows are to be ignored, and
    those rows checked in full. Nothing is reordered or copied back: problems, counts and keys
    are taken from each frame in turn.
    """
    keep = ["__row__", *[c.source for c in compiled.columns]]
    batch = batch.select(keep).rechunk()  # one contiguous buffer per column: faster passes
    values, statuses, slow = _fast_exprs(compiled)
    query = batch.lazy().with_columns(_text_stage(batch, compiled))
    query = query.with_columns(values)
    extra = [*statuses, *([slow.alias(SLOW)] if slow is not None else [])]
    if extra:
        query = query.with_columns(extra)
    checked = query.with_columns(compiled.codes).collect()
    if slow is None:
        return [(checked, None)]
    rows = checked[SLOW].arg_true()
    if rows.is_empty():
        return [(checked, None)]
    subset = batch[rows]
    full_values, full_statuses = _full_exprs(compiled)
    query = subset.lazy().with_columns(_text_stage(subset, compiled)).with_columns(full_values)
    if full_statuses:
        query = query.with_columns(full_statuses)
    return [(checked, SLOW), (query.with_columns(compiled.codes).collect(), None)]


def _problems(checked: pl.DataFrame, compiled: Compiled, skip: str | None) -> pl.DataFrame:
    code_columns = [c for c in checked.columns if c.startswith("__e_")]
    if not code_columns:
        return _empty_problems()
    needed = ["__row__", *[c.source for c in compiled.columns], *code_columns]
    failing_rows = pl.any_horizontal([pl.col(name).is_not_null() for name in code_columns])
    if skip is not None:
        failing_rows = failing_rows & ~pl.col(skip)
        needed.append(skip)
    failing = checked.select(needed).filter(failing_rows)
    if failing.is_empty():
        return _empty_problems()
    parts = []
    for column in compiled.columns:
        code = f"__e_{column.field.name}"
        if code not in failing.columns:
            continue
        part = failing.filter(pl.col(code).is_not_null()).select(
            pl.col("__row__").cast(pl.Int64).alias("row"),
            pl.lit(column.header).alias("column"),
            pl.lit(column.letter).alias("letter"),
            pl.lit(column.field.name).alias("field"),
            pl.col(code).alias("code"),
            pl.col(column.source).alias("value"),
        )
        parts.append(part)
    long = pl.concat(parts)
    return (
        long.join(compiled.rules, on=["field", "code"], how="left")
        .with_columns(
            pl.format(
                "Row {}, column {} '{}': {}",
                pl.col("row"),
                pl.col("letter"),
                pl.col("column"),
                pl.col("template").str.replace_all(
                    "{value}", _shown(pl.col("value")), literal=True
                ),
            ).alias("message")
        )
        .select(list(PROBLEM_SCHEMA))
    )


def _shown(value: pl.Expr) -> pl.Expr:
    """A value as quoted in a message: trimmed, or a word for an empty cell."""
    trimmed = value.str.strip_chars()
    return (
        pl.when(trimmed.is_null() | (trimmed == ""))
        .then(pl.lit("(empty)"))
        .otherwise(
            pl.when(trimmed.str.len_chars() > 60)
            .then(pl.format("{}…", trimmed.str.slice(0, 57)))
            .otherwise(trimmed)
        )
    )


def _tally(
    checked: pl.DataFrame,
    columns: list[Column],
    quality: dict[str, ColumnQuality],
    hashes: dict[str, list[pl.Series]],
    rows_so_far: int,
    skip: str | None = None,
) -> None:
    """Add a batch's counts to each column's quality figures.

    Distinct values are counted exactly (a set of 64-bit hashes) while the file is small; past
    ``EXACT_DISTINCT_ROWS`` rows they are estimated (HyperLogLog, within a few per cent) and
    flagged as such, since an exact count over millions of values costs more than all the rules.
    """
    aggregates = []
    exact = rows_so_far <= EXACT_DISTINCT_ROWS
    counted = pl.lit(True) if skip is None else ~pl.col(skip)
    for column in columns:
        name = column.field.name
        present = pl.col(f"__t_{name}").is_not_null() & counted
        code = f"__e_{name}"
        ok = present & pl.col(code).is_null() if code in checked.columns else present
        value = pl.col(f"__v_{name}") if skip is None else pl.when(counted).then(f"__v_{name}")
        distinct = (
            value.drop_nulls().hash().unique().implode()
            if exact
            else value.drop_nulls().approx_n_unique()
        )
        aggregates += [
            present.sum().alias(f"p_{name}"),
            ok.sum().alias(f"k_{name}"),
            distinct.alias(f"d_{name}"),
        ]
    if not aggregates:
        return
    totals = checked.select(aggregates).row(0, named=True)
    for column in columns:
        name = column.field.name
        entry = quality[name]
        entry.present += totals[f"p_{name}"]
        entry.valid += totals[f"k_{name}"]
        if exact:
            hashes[name].append(pl.Series(totals[f"d_{name}"], dtype=pl.UInt64))
            continue
        if hashes[name]:  # the exact count so far becomes a floor for the estimate
            entry.distinct = pl.concat(hashes[name]).n_unique()
            hashes[name] = []
        entry.distinct_approximate = True
        entry.distinct = max(entry.distinct, int(totals[f"d_{name}"]))


# --- the clean rows (keep_rows) -------------------------------------------------------------


def _typed(spec: Field, value: pl.Expr) -> pl.Expr:
    """A stage 2 clean value ("__v_<field>") as the field's type. Integers, numbers and
    booleans are clean text there (checked by regex before this cast); dates are already
    ``pl.Date``; datetimes are ISO text, with or without an offset."""
    if spec.type == "integer":
        return value.cast(pl.Int64, strict=False)
    if spec.type == "number":
        return value.cast(pl.Float64, strict=False)
    if spec.type == "boolean":
        return value.replace_strict(
            {"true": True, "false": False}, default=None, return_dtype=pl.Boolean
        )
    if spec.type == "datetime":
        with_offset = value.str.contains(r"[+-][0-9]{2}:[0-9]{2}$")
        given = (
            pl.when(with_offset)
            .then(value)
            .str.to_datetime(
                "%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", time_zone="UTC", strict=False
            )
        )
        local = (
            pl.when(~with_offset)
            .then(value)
            .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)
            .dt.replace_time_zone(LOCAL_TIME_ZONE, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
        )
        return pl.coalesce(given, local)
    return value.cast(field_dtype(spec))


@dataclass(frozen=True)
class RowsPlan:
    """How a batch's clean rows are taken from its checked frames (see _batch_rows)."""

    exprs: list[pl.Expr]  # "__row__" then each field's typed clean value, by field name
    refined: list[str]  # the fields whose fast path can differ from their full cleaning


def _rows_plan(compiled: Compiled) -> RowsPlan:
    """Per field: its clean value, typed, or null where the cell breaks an error-severity rule
    (a cell whose first failing rule is a warning keeps its value)."""
    rules = compiled.rules
    exprs = [pl.col("__row__").cast(pl.Int64).alias(ROW)]
    refined = []
    for column, cleaning in zip(compiled.columns, compiled.clean, strict=True):
        spec = column.field
        value = _typed(spec, pl.col(f"__v_{spec.name}"))
        mine = rules.filter(pl.col("field") == spec.name)
        if not mine.is_empty():
            code = pl.col(f"__e_{spec.name}")
            errors = mine.filter(pl.col("severity") == "error")["code"]
            if errors.len() == mine.height:
                value = pl.when(code.is_null()).then(value)
            elif not errors.is_empty():
                value = pl.when(~code.is_in(errors.implode()).fill_null(False)).then(value)
        exprs.append(value.alias(spec.name))
        if cleaning.canonical is not None:
            refined.append(spec.name)
    return RowsPlan(exprs, refined)


def _batch_rows(
    checked_parts: list[tuple[pl.DataFrame, str | None]], plan: RowsPlan
) -> pl.DataFrame:
    """A batch's clean rows, in file order: the fast-path frame's, with the rows it skips
    replaced by those rows as checked in full. They are few (only values not already clean),
    so they are written into place (scatter) rather than merged or sorted. Fields with no fast
    path are the same either way and are left alone."""
    (checked, skip), *rest = checked_parts
    rows = checked.select(plan.exprs)
    if skip is None or not rest:
        return rows
    (full, _), *_ = rest
    positions = checked[skip].arg_true()
    fixed = full.select(plan.exprs)
    return rows.with_columns([rows[name].scatter(positions, fixed[name]) for name in plan.refined])


def _rows_frame(
    standard: Standard,
    parts: list[pl.DataFrame],
    invalid: pl.Series | None,
    *,
    all_invalid: bool,
) -> pl.DataFrame:
    """The batches' clean rows as one frame of ``rows_schema(standard)``: fields the file lacks
    as typed nulls, and ``__valid__`` false on exactly the rows ``valid_rows`` does not count."""
    schema = rows_schema(standard)
    frame = (
        pl.concat(parts, how="vertical", rechunk=False)
        if parts
        else pl.DataFrame(schema={ROW: pl.Int64()})
    )
    missing = [
        pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in schema.items()
        if name not in frame.columns and name != VALID
    ]
    if all_invalid or invalid is None:
        valid = pl.lit(not all_invalid)
    else:
        valid = ~pl.col(ROW).is_in(invalid.unique().implode())
    return frame.with_columns(*missing, valid.alias(VALID)).select(
        [pl.col(name).cast(dtype) for name, dtype in schema.items()]
    )


# --- uniqueness across the whole file --------------------------------------------------------


def _unique_keys(standard: Standard, columns: list[Column]) -> list[tuple[str, ...]]:
    present = {c.field.name for c in columns}
    keys: list[tuple[str, ...]] = [
        (spec.name,) for spec in standard.fields if spec.unique and spec.name in present
    ]
    key = tuple(standard.primary_key)
    if key and all(name in present for name in key) and key not in keys:
        keys.append(key)
    return keys


def _key_fields(keys: list[tuple[str, ...]]) -> list[str]:
    return sorted({name for key in keys for name in key})


def _duplicates(
    parts: list[pl.DataFrame], keys: list[tuple[str, ...]], columns: list[Column]
) -> pl.DataFrame:
    if not parts or not keys:
        return _empty_problems()
    frame = pl.concat(parts)
    by_name = {c.field.name: c for c in columns}
    found = []
    for key in keys:
        value_columns = [f"__v_{name}" for name in key]
        first = by_name[key[0]]
        keyed = frame.select("__row__", *value_columns).drop_nulls(value_columns)
        key_expr = pl.col(value_columns[0]) if len(key) == 1 else pl.struct(value_columns)
        # Repeats of a 64-bit hash first (twice as fast as comparing the text), then the exact
        # test on those candidates only, so a hash collision can never report a false repeat.
        candidates = keyed.filter(key_expr.hash().is_duplicated())
        dupes = candidates.filter(key_expr.is_duplicated())
        if dupes.is_empty():
            continue
        groups = dupes.group_by(value_columns).agg(
            pl.col("__row__").sort().alias("rows"), pl.len().alias("times")
        )
        exploded = groups.with_columns(
            pl.col("rows").list.head(5).cast(pl.List(pl.Utf8)).list.join(", ").alias("listed")
        ).explode("rows")
        names = " and ".join(by_name[name].field.title for name in key)
        shown = (
            pl.col(value_columns[0])
            if len(key) == 1
            else pl.concat_str(value_columns, separator=" / ")
        )
        what = f"its own {names}" if len(key) == 1 else f"its own combination of {names}"
        found.append(
            exploded.select(
                pl.col("rows").cast(pl.Int64).alias("row"),
                pl.lit(first.header).alias("column"),
                pl.lit(first.letter).alias("letter"),
                pl.lit(first.field.name).alias("field"),
                pl.lit("unique" if len(key) == 1 else "primary_key").alias("rule"),
                pl.lit("error").alias("severity"),
                shown.alias("value"),
                pl.format(
                    "Row {}, column {} '{}': {} is on {} rows ({}{}), but each row needs {}. "
                    "Remove the repeats or correct them.",
                    pl.col("rows"),
                    pl.lit(first.letter),
                    pl.lit(first.header),
                    shown,
                    pl.col("times"),
                    pl.col("listed"),
                    pl.when(pl.col("times") > 5).then(pl.lit(", …")).otherwise(pl.lit("")),
                    pl.lit(what),
                ).alias("message"),
            )
        )
    return pl.concat(found) if found else _empty_problems()
