"""Templates for a data standard: the spreadsheet people fill in, a CSV, and the published JSON.

- :func:`write_xlsx`: a workbook whose first (and active) sheet, "Data", has the column names as
  headers (machine-stable: Accord matches them exactly), bold and frozen, each with a comment
  giving its title, description and rules, and Excel data validation on every row below: a
  dropdown for allowed values and code lists, date, whole-number and decimal ranges, yes/no for
  booleans, and a text format on identifier and other text columns so Excel keeps leading zeros
  and long numbers (a UPRN or NHS number typed in stays as typed). A second sheet,
  "Instructions", says what the standard is for, how to fill the template in, and one row per
  column. A hidden "Lists" sheet holds the code lists behind dropdowns (codes, and their names
  beside them) and any list of allowed values too long to write into the validation itself
  (Excel allows 255 characters there).
- :func:`write_csv`: the header row and one example row made from the fields' examples, in
  UTF-8 with a byte order mark. Without the mark, Excel on Windows opens a CSV in the
  computer's legacy code page and turns "£" or an accented name into mojibake; with it, Excel,
  LibreOffice, Polars and Python's ``utf-8-sig`` all read the file correctly.
- :func:`write_schema_json`: the published descriptor, a Frictionless Table Schema with Accord's
  extras under ``"accord"`` (see :mod:`accord.standards.schema`), pretty-printed UTF-8.

Every text cell Accord writes into a CSV or workbook passes
:func:`accord.standards.cells.neutralise` first, so text from a standard can never run as a
spreadsheet formula.

A ``target`` is a path or a binary file object. A path is written atomically: the file appears
complete or not at all.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from .cells import neutralise
from .schema import FALSE_VALUES, TRUE_VALUES, Field, Standard

FORMATS = ("xlsx", "csv", "json")
DATA_SHEET = "Data"
INSTRUCTIONS_SHEET = "Instructions"
LISTS_SHEET = "Lists"
LAST_ROW = 1_048_576  # Excel's last row: validation and formats cover every row below the header
INLINE_LIST_LIMIT = 255  # Excel's limit on a dropdown written into the validation itself
PROMPT_TITLE_LIMIT = 32
PROMPT_LIMIT = 255
ERROR_LIMIT = 225
NO_LOWER_DATE = date(1900, 1, 1)
FILE_MODE = 0o644  # a template is published material, readable like any other download
WHOLE_LIMIT = 999_999_999_999_999  # bounds for whole and decimal validation with no range set

TYPE_LABELS = {
    "string": "Text",
    "integer": "Whole number",
    "number": "Number",
    "boolean": "Yes or no",
    "date": "Date",
    "datetime": "Date and time",
}
DATE_LAYOUTS = {"any": "DD/MM/YYYY or YYYY-MM-DD", "default": "YYYY-MM-DD"}
DATETIME_LAYOUTS = {
    "any": "YYYY-MM-DDTHH:MM:SS or DD/MM/YYYY HH:MM",
    "default": "YYYY-MM-DDTHH:MM:SS, with an offset if known",
}
# Number formats for each column of the Data sheet: "@" is Excel's text format.
TEXT_FORMAT = "@"
DATE_CELL_FORMATS = {"any": "DD/MM/YYYY", "default": "YYYY-MM-DD"}

# Kinds of area in words, for "the ONS code of ...".
ENTITY_WORDS = {
    "local_authority": "a local authority district (district, unitary, metropolitan district "
    "or London borough)",
    "upper_tier_authority": "an upper-tier authority (county, unitary, metropolitan district "
    "or London borough)",
    "county": "a county",
    "lsoa": "an LSOA",
    "msoa": "an MSOA",
    "output_area": "an output area",
    "ward": "an electoral ward",
    "region": "a region",
    "country": "a country",
    "icb": "an integrated care board",
    "sub_icb_location": "a sub-ICB location",
    "nhs_region": "an NHS England region",
    "combined_authority": "a combined authority",
    "constituency": "a Westminster constituency",
}

HEADER_FILL = "D9D9D9"
REQUIRED_HEADER_FILL = "BDD7EE"


# --- describing a column in words -------------------------------------------------------------


def type_text(field: Field) -> str:
    """The column's type in words: "Text", "Whole number", "Date", ..."""
    return TYPE_LABELS.get(field.type, field.type)


def format_text(field: Field) -> str:
    """How to write a value: a date layout, "keep as text", "yes or no", ..."""
    if field.type == "date":
        return DATE_LAYOUTS.get(field.format, field.format)
    if field.type == "datetime":
        return DATETIME_LAYOUTS.get(field.format, field.format)
    if field.type == "boolean":
        yes, no = boolean_choices(field)
        return f"{yes} or {no}"
    if field.type == "integer":
        return "Digits only, like 12"
    if field.type == "number":
        return "Digits with an optional decimal point, like 12.5; no £, % or commas"
    if field.is_identifier or field.code_list or field.pattern:
        return "Text: keep as text, with any leading zeros"
    return "Text"


def rules_text(field: Field) -> str:
    """The column's rules in plain English sentences: allowed values, identifier, code list,
    form, length, range, uniqueness. Empty when the column has none."""
    parts: list[str] = []
    if field.enum:
        parts.append("One of: " + ", ".join(field.enum))
    elif field.type == "boolean":
        yes, no = boolean_choices(field)
        parts.append(f"{yes.capitalize()} or {no}")
    if field.identifier:
        parts.append(_identifier_text(field))
    if field.code_list:
        parts.append(f"In the code list {_code_list_title(field.code_list)}")
    if field.pattern:
        parts.append(
            f"In the form {field.example}" if field.example else f"Matches {field.pattern}"
        )
    if field.min_length is not None and field.max_length is not None:
        parts.append(f"{field.min_length} to {field.max_length} characters")
    elif field.max_length is not None:
        parts.append(f"Up to {field.max_length} characters")
    elif field.min_length is not None:
        parts.append(f"At least {field.min_length} characters")
    bounds = _range_text(field)
    if bounds:
        parts.append(bounds)
    if field.unique:
        parts.append("Each value only once")
    return " ".join(part + "." for part in parts)


def boolean_choices(field: Field) -> tuple[str, str]:
    """The two answers a template offers for a yes/no column: yes/no when the standard accepts
    them, otherwise its first true and false values."""
    if "yes" in field.true_values and "no" in field.false_values:
        return "yes", "no"
    yes = field.true_values[0] if field.true_values else TRUE_VALUES[0]
    no = field.false_values[0] if field.false_values else FALSE_VALUES[0]
    return yes, no


def _identifier_text(field: Field) -> str:
    from . import checks

    kind = checks.IDENTIFIER_TYPES.get(field.identifier or "")
    if field.gss_entities:
        areas = " or ".join(
            ENTITY_WORDS.get(e, "a " + e.replace("_", " ")) for e in field.gss_entities
        )
        prefixes = ", ".join(
            dict.fromkeys(
                p for e in field.gss_entities for p in checks.GSS_ENTITY_PREFIXES.get(e, ())
            )
        )
        return f"The ONS code of {areas}, starting {prefixes}"
    if kind is None:
        return f"A {(field.identifier or '').replace('_', ' ')}"
    if kind.description:
        return kind.description.rstrip(".")
    return f"A valid {kind.label}"


def _code_list_title(name: str) -> str:
    from . import codelists

    try:
        code_list = codelists.load(name)
    except (LookupError, ValueError):
        return f"the '{name}' code list"
    if code_list.vintage in code_list.title:
        return code_list.title
    return f"{code_list.title} ({code_list.vintage})"


def _code_list(name: str) -> tuple[tuple[str, ...], Mapping[str, str]]:
    """A code list's codes, sorted, and their names."""
    from . import codelists

    code_list = codelists.load(name)
    return tuple(sorted(code_list.codes)), code_list.names


def _range_text(field: Field) -> str:
    low, high = field.minimum, field.maximum
    if low is None and high is None:
        return ""
    if field.type in ("date", "datetime"):
        shown_low = _long_date(low) if low is not None else None
        shown_high = _long_date(high) if high is not None else None
        if shown_low and shown_high:
            return f"From {shown_low} to {shown_high}"
        return f"On or after {shown_low}" if shown_low else f"On or before {shown_high}"
    if low is not None and high is not None:
        return f"From {_number(low)} to {_number(high)}"
    return f"At least {_number(low)}" if low is not None else f"At most {_number(high)}"


def _long_date(value: object) -> str:
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day.day} {day:%B %Y}"


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,}"
    return f"{int(value):,}"


# --- the published descriptor ----------------------------------------------------------------


def published_descriptor(standard: Standard) -> dict[str, Any]:
    """The Table Schema descriptor Accord publishes for ``standard``.

    The descriptor the standard was parsed from, when there is one (so anything its authors
    added that Accord does not use is kept); otherwise one built from the parsed standard, which
    parses back to an equal standard.
    """
    if standard.descriptor:
        plain = _plain(standard.descriptor)
        assert isinstance(plain, dict)
        return plain
    accord: dict[str, Any] = {"personalData": standard.personal_data}
    if standard.row_description:
        accord["rowDescription"] = standard.row_description
    descriptor: dict[str, Any] = {
        "name": standard.slug,
        "version": standard.version,
        "title": standard.title,
    }
    if standard.description:
        descriptor["description"] = standard.description
    descriptor["accord"] = accord
    descriptor["fields"] = [_field_descriptor(f) for f in standard.fields]
    if standard.primary_key:
        descriptor["primaryKey"] = list(standard.primary_key)
    return descriptor


def _field_descriptor(field: Field) -> dict[str, Any]:
    from . import checks

    out: dict[str, Any] = {"name": field.name, "title": field.title, "type": field.type}
    if field.format != "default":
        out["format"] = field.format
    if field.description:
        out["description"] = field.description
    if field.example:
        out["example"] = field.example
    if field.true_values != TRUE_VALUES:
        out["trueValues"] = list(field.true_values)
    if field.false_values != FALSE_VALUES:
        out["falseValues"] = list(field.false_values)
    constraints: dict[str, Any] = {}
    for key, value in (
        ("required", field.required or None),
        ("unique", field.unique or None),
        ("enum", list(field.enum) if field.enum else None),
        ("minimum", field.minimum),
        ("maximum", field.maximum),
        ("minLength", field.min_length),
        ("maxLength", field.max_length),
        ("pattern", field.pattern),
    ):
        if value is not None:
            constraints[key] = value
    if constraints:
        out["constraints"] = constraints
    accord: dict[str, Any] = {}
    if field.identifier:
        accord["identifier"] = field.identifier
    if field.gss_entities:
        accord["gssEntities"] = list(field.gss_entities)
    if field.code_list:
        accord["codeList"] = field.code_list
    if field.aliases:
        accord["aliases"] = list(field.aliases)
    if field.messages:
        accord["messages"] = dict(field.messages)
    kind = checks.IDENTIFIER_TYPES.get(field.identifier or "")
    if field.personal != bool(kind and kind.personal):
        accord["personal"] = field.personal
    if accord:
        out["accord"] = accord
    return out


def _plain(value: object) -> object:
    """JSON-ready copies of mappings and sequences (a descriptor may hold read-only mappings)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def write_schema_json(standard: Standard, target: BinaryIO | Path) -> None:
    """Write the published descriptor as pretty-printed UTF-8 JSON."""
    text = json.dumps(published_descriptor(standard), indent=2, ensure_ascii=False) + "\n"
    _write(target, text.encode("utf-8"))


# --- CSV ------------------------------------------------------------------------------------


def write_csv(standard: Standard, target: BinaryIO | Path) -> None:
    """Write the header row of column names and one example row, UTF-8 with a byte order mark."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_safe(f.name) for f in standard.fields])
    writer.writerow([_safe(f.example) for f in standard.fields])
    _write(target, buffer.getvalue().encode("utf-8-sig"))


def _safe(text: str) -> str:
    return str(neutralise(text))


# --- XLSX -----------------------------------------------------------------------------------


def write_xlsx(standard: Standard, target: BinaryIO | Path) -> None:
    """Write the spreadsheet template: Data (first and active), Instructions, Lists (hidden)."""
    from openpyxl import Workbook

    book = Workbook()
    data = book.active
    assert data is not None
    data.title = DATA_SHEET
    instructions = book.create_sheet(INSTRUCTIONS_SHEET)
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    book.active = 0
    book.properties.title = _safe(f"{standard.title} ({standard.label}) template")
    book.properties.creator = "Accord"

    list_columns = _ListsSheet(lists)
    _fill_data_sheet(data, standard, list_columns)
    _fill_instructions(instructions, standard)

    buffer = io.BytesIO()
    book.save(buffer)
    _write(target, buffer.getvalue())


class _ListsSheet:
    """The hidden sheet of dropdown values: one column per list, its name in row 1."""

    def __init__(self, sheet: Any) -> None:
        self.sheet = sheet
        self.used = 0

    def add(self, name: str, values: Sequence[str], labels: Mapping[str, str] | None = None) -> str:
        """Write a list (and, beside it, each value's name if given); return its range."""
        from openpyxl.utils import get_column_letter

        self.used += 1
        column = self.used
        letter = get_column_letter(column)
        self.sheet.cell(row=1, column=column, value=_safe(name))
        for row, value in enumerate(values, start=2):
            cell = self.sheet.cell(row=row, column=column, value=_safe(value))
            cell.number_format = TEXT_FORMAT
        self.sheet.column_dimensions[letter].width = max(12, min(40, len(name) + 2))
        if labels:
            self.used += 1
            self.sheet.cell(row=1, column=self.used, value=_safe(f"{name} (name)"))
            for row, value in enumerate(values, start=2):
                self.sheet.cell(row=row, column=self.used, value=_safe(labels.get(value, "")))
            self.sheet.column_dimensions[get_column_letter(self.used)].width = 40
        return f"{LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}"


def _fill_data_sheet(sheet: Any, standard: Standard, lists: _ListsSheet) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    for index, field in enumerate(standard.fields, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=_safe(field.name))
        cell.font = bold
        cell.fill = PatternFill(
            "solid", fgColor=REQUIRED_HEADER_FILL if field.required else HEADER_FILL
        )
        cell.alignment = Alignment(vertical="top")
        comment = Comment(_safe(_header_note(field)), "Accord")
        comment.width = 320
        comment.height = 200
        cell.comment = comment
        width = max(len(field.name), len(field.example), 10) + 3
        dimension = sheet.column_dimensions[letter]
        dimension.width = min(width, 45)
        dimension.number_format = _cell_format(field)
        validation = _validation(field, lists)
        if validation is not None:
            validation.add(f"{letter}2:{letter}{LAST_ROW}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"


def _header_note(field: Field) -> str:
    lines = [field.title, "", field.description] if field.description else [field.title]
    lines += ["", "Required: fill it in on every row." if field.required else "Optional."]
    rules = rules_text(field)
    if rules:
        lines.append(rules)
    if field.example:
        lines.append(f"Example: {field.example}")
    return "\n".join(lines)


def _cell_format(field: Field) -> str:
    if field.type == "date":
        return DATE_CELL_FORMATS.get(field.format, DATE_CELL_FORMATS["default"])
    if field.type == "integer":
        return "0"
    if field.type == "number":
        return "General"
    return TEXT_FORMAT  # text, identifiers, yes/no, date-times: kept exactly as typed


def _validation(field: Field, lists: _ListsSheet) -> Any:
    """The Excel data validation for the column, or None when the column only needs text."""
    from openpyxl.worksheet.datavalidation import DataValidation

    title = _clip(field.title, PROMPT_TITLE_LIMIT)
    choices, labels = _choices(field)
    if choices is not None:
        formula = _list_formula(field.name, choices, labels, lists)
        if field.enum or field.type == "boolean":
            shown = ", ".join(choices)
            error = f"Choose one of the values in the list: {shown}."
        else:
            error = f"Choose a code from the list: {_code_list_title(field.code_list or '')}."
        return DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=True,
            showInputMessage=True,
            errorStyle="stop",
            errorTitle=_clip(f"Not allowed in {field.name}", PROMPT_TITLE_LIMIT),
            error=_clip(error, ERROR_LIMIT),
            promptTitle=title,
            prompt=_clip(_prompt(field, "Choose from the list."), PROMPT_LIMIT),
        )
    if field.type in ("integer", "number"):
        return _numeric_validation(field, title)
    if field.type == "date":
        return _date_validation(field, title)
    if field.type == "string" and (field.max_length is not None or field.min_length is not None):
        low = field.min_length if field.min_length is not None else 0
        high = field.max_length if field.max_length is not None else 32767
        return DataValidation(
            type="textLength",
            operator="between",
            formula1=str(low),
            formula2=str(high),
            allow_blank=True,
            showErrorMessage=True,
            showInputMessage=True,
            errorStyle="stop",
            errorTitle=_clip(f"Wrong length for {field.name}", PROMPT_TITLE_LIMIT),
            error=_clip(f"{field.title} must be {_length_text(low, high)} long.", ERROR_LIMIT),
            promptTitle=title,
            prompt=_clip(_prompt(field, ""), PROMPT_LIMIT),
        )
    if field.type == "datetime" or field.is_identifier or field.pattern:
        # No Excel rule can check these; Accord does. Say how to write them as the cell is chosen.
        return DataValidation(
            type=None,
            allow_blank=True,
            showInputMessage=True,
            promptTitle=title,
            prompt=_clip(_prompt(field, ""), PROMPT_LIMIT),
        )
    return None


def _length_text(low: int, high: int) -> str:
    return f"at most {high:,} characters" if low <= 0 else f"{low:,} to {high:,} characters"


def _choices(field: Field) -> tuple[tuple[str, ...] | None, Mapping[str, str]]:
    """The values a dropdown offers for the column (None for no dropdown), and their names."""
    if field.enum:
        return field.enum, {}
    if field.type == "boolean":
        return boolean_choices(field), {}
    if field.code_list:
        return _code_list(field.code_list)
    return None, {}


def _list_formula(
    name: str, values: Sequence[str], labels: Mapping[str, str], lists: _ListsSheet
) -> str:
    """An inline list when it fits Excel's 255 characters, else a range on the Lists sheet."""
    inline = ",".join(values)
    fits = len(inline) <= INLINE_LIST_LIMIT and not any('"' in v or "," in v for v in values)
    if fits and not labels:
        return f'"{inline}"'
    return lists.add(name, values, labels)


def _numeric_validation(field: Field, title: str) -> Any:
    from openpyxl.worksheet.datavalidation import DataValidation

    kind = "whole" if field.type == "integer" else "decimal"
    what = "a whole number" if kind == "whole" else "a number"
    low, high = field.minimum, field.maximum
    if low is not None and high is not None:
        operator, formula1, formula2 = "between", _number_formula(low), _number_formula(high)
        bounds = f" from {_number(low)} to {_number(high)}"
    elif low is not None:
        operator, formula1, formula2 = "greaterThanOrEqual", _number_formula(low), None
        bounds = f" of at least {_number(low)}"
    elif high is not None:
        operator, formula1, formula2 = "lessThanOrEqual", _number_formula(high), None
        bounds = f" of at most {_number(high)}"
    else:
        operator, formula1 = "between", str(-WHOLE_LIMIT)
        formula2, bounds = str(WHOLE_LIMIT), ""
    advice = "" if kind == "whole" else " Leave out £, % and commas."
    return DataValidation(
        type=kind,
        operator=operator,
        formula1=formula1,
        formula2=formula2,
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorStyle="stop",
        errorTitle=_clip(f"Not allowed in {field.name}", PROMPT_TITLE_LIMIT),
        error=_clip(f"Enter {what}{bounds} in {field.title}.{advice}", ERROR_LIMIT),
        promptTitle=title,
        prompt=_clip(_prompt(field, f"Enter {what}{bounds}."), PROMPT_LIMIT),
    )


def _number_formula(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _date_validation(field: Field, title: str) -> Any:
    from openpyxl.worksheet.datavalidation import DataValidation

    low = _as_date(field.minimum) or NO_LOWER_DATE
    high = _as_date(field.maximum)
    layout = DATE_LAYOUTS.get(field.format, DATE_LAYOUTS["default"])
    if high is not None:
        operator, formula2 = "between", _date_formula(high)
        bounds = f"from {_long_date(low.isoformat())} to {_long_date(high.isoformat())}"
    else:
        operator, formula2 = "greaterThanOrEqual", None
        bounds = f"on or after {_long_date(low.isoformat())}"
    return DataValidation(
        type="date",
        operator=operator,
        formula1=_date_formula(low),
        formula2=formula2,
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorStyle="stop",
        errorTitle=_clip(f"Not a date for {field.name}", PROMPT_TITLE_LIMIT),
        error=_clip(f"Enter a real date {bounds} in {field.title}, as {layout}.", ERROR_LIMIT),
        promptTitle=title,
        prompt=_clip(_prompt(field, f"A date {bounds}, as {layout}."), PROMPT_LIMIT),
    )


def _as_date(value: object) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _date_formula(day: date) -> str:
    return f"DATE({day.year},{day.month},{day.day})"


def _prompt(field: Field, lead: str) -> str:
    parts = ["Required." if field.required else "Optional."]
    if lead:
        parts.append(lead)
    elif field.type == "datetime":
        parts.append(f"Write it as {format_text(field)}.")
    else:
        rules = rules_text(field)
        if rules:
            parts.append(rules)
    if field.example:
        parts.append(f"Example: {field.example}")
    return _safe(" ".join(parts))


def _clip(text: str, limit: int) -> str:
    text = str(neutralise(text))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- the Instructions sheet ---------------------------------------------------------------------

COLUMN_TABLE = (
    ("Column", 28),
    ("Title", 30),
    ("Required", 10),
    ("Type", 14),
    ("Allowed values or range", 44),
    ("Format", 26),
    ("Example", 22),
    ("Description", 70),
)


def how_to_fill_in(standard: Standard) -> list[str]:
    """The instructions for filling the template in, one sentence each."""
    row = standard.row_description or "One row per record"
    first = row[0].lower() + row[1:]
    steps = [
        f"Enter {first} on the Data sheet, starting in row 2.",
        "Do not change, reorder or rename the headers in row 1: Accord finds each column by "
        "its name. The table below gives each column's title and meaning, and so does the "
        "note on each header.",
        "Fill in every required column (blue headers) on every row. Leave an optional column "
        "blank if you do not have the value.",
        "Keep identifiers and codes (NHS numbers, UPRNs, postcodes, ONS codes) as text: the "
        "template's columns are already formatted as text, so leading zeros and long numbers "
        "stay as typed. When pasting from another file, use Paste Special, Values.",
        "Where a column has a dropdown, choose from it. Numbers go without £, % or commas.",
    ]
    dates = [f for f in standard.fields if f.type in ("date", "datetime")]
    if dates and all(f.format == "any" for f in dates):
        steps.insert(3, "Write dates as DD/MM/YYYY or YYYY-MM-DD, like 02/03/2026 or 2026-03-02.")
    elif dates:
        steps.insert(3, "Write dates in the format the table below gives for each column.")
    if any(f.type == "boolean" for f in standard.fields):
        steps.append("Answer yes/no columns with yes or no.")
    if len(standard.primary_key) == 1:
        steps.append(f"Each {standard.primary_key[0]} must appear on one row only.")
    elif standard.primary_key:
        names = ", ".join(standard.primary_key[:-1]) + " and " + standard.primary_key[-1]
        steps.append(f"Each combination of {names} must appear on one row only.")
    steps.append(
        "Before you submit, check the file: upload it on the standard's page in Accord "
        f"(Check a file), or run `accord validate --standard {standard.label} FILE`. Either "
        "lists every problem by row and column, and what to do about it. Nothing is kept."
    )
    return steps


def _fill_instructions(sheet: Any, standard: Standard) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wrap = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)
    last = len(COLUMN_TABLE)
    full_width = sum(width for _, width in COLUMN_TABLE)
    for index, (_, width) in enumerate(COLUMN_TABLE, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width

    row = 1

    def paragraph(text: str, *, font: Any = None, gap: int = 1) -> None:
        nonlocal row
        cell = sheet.cell(row=row, column=1, value=_safe(text))
        cell.alignment = wrap
        if font is not None:
            cell.font = font
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
        sheet.row_dimensions[row].height = _height([text], [full_width])
        row += gap

    paragraph(standard.title, font=Font(bold=True, size=16))
    paragraph(f"Data standard {standard.slug}, version {standard.version}.", gap=2)
    paragraph("What it is for", font=bold)
    paragraph(standard.description or standard.title, gap=2)
    if standard.row_description:
        paragraph(f"{standard.row_description}.")
    paragraph(
        "It holds personal data: keep the file secure, share it only as your data sharing "
        "agreement allows, and delete local copies when you no longer need them."
        if standard.personal_data
        else "It holds no personal data about individuals.",
        gap=2,
    )
    paragraph("How to fill it in", font=bold)
    for number, step in enumerate(how_to_fill_in(standard), start=1):
        paragraph(f"{number}. {step}")
    row += 1
    paragraph("The columns", font=bold)

    fill = PatternFill("solid", fgColor=HEADER_FILL)
    for index, (heading, _) in enumerate(COLUMN_TABLE, start=1):
        cell = sheet.cell(row=row, column=index, value=heading)
        cell.font = bold
        cell.fill = fill
        cell.alignment = wrap
    row += 1
    widths = [width for _, width in COLUMN_TABLE]
    for field in standard.fields:
        values = column_row(field)
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=index, value=_safe(value))
            cell.alignment = wrap
            cell.number_format = TEXT_FORMAT
        sheet.row_dimensions[row].height = _height(values, widths)
        row += 1


def column_row(field: Field) -> list[str]:
    """One row of the Instructions sheet's column table."""
    return [
        field.name,
        field.title,
        "yes" if field.required else "no",
        type_text(field),
        rules_text(field),
        format_text(field),
        field.example,
        field.description,
    ]


def _height(texts: Iterable[str], widths: Iterable[int]) -> float:
    """A row height (points) that shows wrapped text in full: about 15 points a line."""
    lines = 1
    for text, width in zip(texts, widths, strict=False):
        per_line = max(int(width * 1.1), 1)
        wrapped = sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))
        lines = max(lines, wrapped)
    return 15.0 * lines + 2


# --- writing --------------------------------------------------------------------------------


def default_filename(standard: Standard, fmt: str) -> str:
    """``<slug>-<version>-template.xlsx`` / ``.csv``, or ``<slug>-<version>.schema.json``."""
    if fmt == "json":
        return f"{standard.slug}-{standard.version}.schema.json"
    if fmt not in FORMATS:
        raise ValueError(f"Unknown template format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    return f"{standard.slug}-{standard.version}-template.{fmt}"


WRITERS = {"xlsx": write_xlsx, "csv": write_csv, "json": write_schema_json}


def _write(target: BinaryIO | Path, data: bytes) -> None:
    if not isinstance(target, str | os.PathLike):
        target.write(data)
        return
    path = Path(target)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
