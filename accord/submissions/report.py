"""A validation report in the forms people use it: JSON, plain text, CSV and an annotated XLSX.

Everything written to CSV or XLSX goes through :mod:`accord.standards.cells`, so a value such
as ``=HYPERLINK(...)`` typed into a submitted file cannot run when the report is opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import polars as pl

from accord.standards.cells import neutralise, neutralise_expr

from .engine import ValidationReport, header_score
from .reading import open_table

TEXT_EXAMPLES_PER_RULE = 10

RULE_LABELS = {
    "required": "Missing values",
    "integer": "Not a whole number",
    "number": "Not a number",
    "boolean": "Not a yes/no answer",
    "date_format": "Not a date",
    "date_real": "No such date",
    "datetime_format": "Not a date and time",
    "enum": "Not an allowed value",
    "code_list": "Not in the code list",
    "pattern": "Wrong form",
    "min_length": "Too short",
    "max_length": "Too long",
    "minimum": "Below the lowest allowed",
    "maximum": "Above the highest allowed",
    "unique": "Repeated values",
    "primary_key": "Repeated rows",
    "missing_column": "Missing columns",
    "duplicate_column": "Repeated columns",
    "unknown_column": "Columns not in the standard",
    "nhs_number_scientific": "NHS number turned into scientific notation",
    "nhs_number_format": "Not an NHS number",
    "nhs_number_check_digit": "NHS number check digit fails",
    "upn_format": "Not a unique pupil number",
    "upn_check_letter": "Pupil number check letter wrong",
    "nino_format": "Not a National Insurance number",
    "nino_prefix": "National Insurance number prefix not used",
    "postcode_format": "Not a UK postcode",
    "postcode_pseudo_format": "Not a UK postcode",
    "uprn_scientific": "UPRN turned into scientific notation",
    "uprn_format": "Not a UPRN",
    "uprn_range": "UPRN out of range",
    "usrn_scientific": "USRN turned into scientific notation",
    "usrn_format": "Not a USRN",
    "usrn_range": "USRN out of range",
    "gss_format": "Not a GSS area code",
    "gss_entity": "Wrong kind of area code",
    "datetime_real": "No such date and time",
}


def rule_label(rule: str) -> str:
    """A short plain-English name for a rule id."""
    if rule in RULE_LABELS:
        return RULE_LABELS[rule]
    return rule.replace("_", " ").capitalize()


def to_dict(report: ValidationReport) -> dict[str, Any]:
    """The report as JSON-ready data (the shape ``accord validate --format json`` prints)."""

    def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
        return frame.select(
            "row", "column", "letter", "field", "rule", "value", "message"
        ).to_dicts()

    return {
        "standard": report.standard.label,
        "file": {
            "name": report.file.name,
            "kind": report.file.kind,
            "size_bytes": report.file.size_bytes,
            "encoding": report.file.encoding,
            "delimiter": report.file.delimiter,
            "sheet": report.file.sheet,
            "header_row": report.file.header_row,
        },
        "valid": report.is_valid,
        "rows": report.rows,
        "valid_rows": report.valid_rows,
        "invalid_rows": report.rows - report.valid_rows,
        "error_count": report.errors.height,
        "warning_count": report.warnings.height,
        "errors": records(report.errors),
        "warnings": records(report.warnings),
        "rules": [
            {**entry, "label": rule_label(entry["rule"])} for entry in report.by_rule().to_dicts()
        ],
        "columns": [
            {
                "field": c.field,
                "title": c.title,
                "column": c.column,
                "letter": c.letter,
                "completeness": c.completeness,
                "validity": c.validity,
                "distinct": c.distinct,
                "distinct_approximate": c.distinct_approximate,
            }
            for c in report.columns
        ],
    }


def summary_line(report: ValidationReport) -> str:
    invalid = report.rows - report.valid_rows
    errors, warnings = report.errors.height, report.warnings.height
    return (
        f"{report.rows:,} {_plural(report.rows, 'row')}: {report.valid_rows:,} valid, "
        f"{invalid:,} with errors. {errors:,} {_plural(errors, 'error')}, "
        f"{warnings:,} {_plural(warnings, 'warning')}."
    )


def to_text(report: ValidationReport, *, examples: int = TEXT_EXAMPLES_PER_RULE) -> str:
    """The report as a person reads it on the command line."""
    return "\n".join(_text_lines(report, examples))


def _text_lines(report: ValidationReport, examples: int) -> Iterator[str]:
    where = report.file.name or "The file"
    yield f"{where} checked against {report.standard.title} ({report.standard.label})"
    read_as = report.file.kind.upper()
    if report.file.sheet:
        read_as += f", sheet '{report.file.sheet}'"
    if report.file.encoding:
        read_as += f", {report.file.encoding}"
    yield f"Read as {read_as}; header on row {report.file.header_row}."
    yield summary_line(report)
    if report.is_valid:
        yield "The file meets the standard." + (
            " Check the warnings below." if report.warnings.height else ""
        )
    for severity, heading in (("error", "Errors"), ("warning", "Warnings")):
        problems = report.problems.filter(pl.col("severity") == severity)
        if problems.is_empty():
            continue
        yield ""
        yield f"{heading}, by rule:"
        for group in report.by_rule().filter(pl.col("severity") == severity).iter_rows(named=True):
            column = f" in '{group['column']}'" if group["column"] else ""
            yield f"  {rule_label(group['rule'])}{column}: {group['count']:,}"
            rows = problems.filter(
                (pl.col("rule") == group["rule"])
                & (pl.col("field").eq_missing(group["field"]))
                & (pl.col("column").eq_missing(group["column"]))
            )
            for message in rows["message"].head(examples):
                yield f"    {message}"
            if rows.height > examples:
                yield f"    … and {rows.height - examples:,} more of these."
    yield ""
    yield "Column quality (complete = filled in; valid = of those filled in):"
    width = max((len(c.title) for c in report.columns), default=10)
    for quality in report.columns:
        if quality.column is None:
            yield f"  {quality.title:<{width}}  not in the file"
            continue
        distinct = ("about " if quality.distinct_approximate else "") + f"{quality.distinct:,}"
        yield (
            f"  {quality.title:<{width}}  complete {_percent(quality.completeness)}  "
            f"valid {_percent(quality.validity)}  distinct {distinct}"
        )


def _percent(value: float | None) -> str:
    return "  none" if value is None else f"{value:>6.1%}"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def write_csv(report: ValidationReport, target: str | Path | IO[bytes]) -> None:
    """Every problem, one per line, safe to open in a spreadsheet (UTF-8 with a BOM for Excel)."""
    text_columns = ["column", "letter", "field", "rule", "severity", "value", "message"]
    frame = report.problems.with_columns(
        [neutralise_expr(pl.col(name)).alias(name) for name in text_columns]
    ).select("row", "letter", "column", "field", "severity", "rule", "value", "message")
    frame.write_csv(target, include_bom=True)


ERROR_FILL = "F6D7D2"  # GOV.UK red tint
WARNING_FILL = "FFF2CC"
HEADER_FILL = "D2E2F1"


def write_annotated_xlsx(
    report: ValidationReport, source: str | Path, target: str | Path | IO[bytes]
) -> None:
    """A copy of the checked file with each problem cell highlighted and commented.

    Rows and columns sit where they were in the original, so "row 14, column C" in the report
    is row 14, column C in the copy. A second sheet lists every problem.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import column_index_from_string

    fills = {
        "error": PatternFill("solid", start_color=ERROR_FILL),
        "warning": PatternFill("solid", start_color=WARNING_FILL),
    }
    cell_problems: dict[tuple[int, str], tuple[str, str]] = {}
    for row, letter, severity, message in report.problems.select(
        "row", "letter", "severity", "message"
    ).iter_rows():
        if letter is None:
            continue
        key = (row, letter)
        if key in cell_problems:
            previous_severity, previous = cell_problems[key]
            worst = "error" if "error" in (previous_severity, severity) else "warning"
            cell_problems[key] = (worst, previous + "\n" + message)
        else:
            cell_problems[key] = (severity, message)

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Checked data")
    problems_sheet = workbook.create_sheet("Problems")
    with open_table(source, header_score=header_score(report.standard)) as table:
        positions = [column_index_from_string(letter) for letter in table.letters]
        width = max(positions, default=0)
        for _ in range(table.header_row - 1):
            sheet.append([])
        header: list[Any] = [None] * width
        for position, text in zip(positions, table.headers, strict=True):
            cell = WriteOnlyCell(sheet, value=neutralise(text))
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", start_color=HEADER_FILL)
            header[position - 1] = cell
        sheet.append(header)
        next_row = table.header_row + 1
        for batch in table.batches():
            for values in batch.iter_rows():
                row_number = values[0]
                while next_row < row_number:
                    sheet.append([])
                    next_row += 1
                cells: list[Any] = [None] * width
                for position, letter, value in zip(
                    positions, table.letters, values[1:], strict=True
                ):
                    found = cell_problems.get((row_number, letter))
                    if found is None:
                        cells[position - 1] = neutralise(value)
                        continue
                    cell = WriteOnlyCell(sheet, value=neutralise(value))
                    cell.fill = fills[found[0]]
                    cell.comment = Comment(found[1], "Accord")
                    cells[position - 1] = cell
                sheet.append(cells)
                next_row += 1
    problems_sheet.append(["Row", "Column", "Header", "Severity", "Rule", "Value", "Message"])
    for row, letter, column, severity, rule, value, message in report.problems.select(
        "row", "letter", "column", "severity", "rule", "value", "message"
    ).iter_rows():
        problems_sheet.append(
            [row, letter, neutralise(column), severity, rule, neutralise(value), message]
        )
    workbook.save(target)
