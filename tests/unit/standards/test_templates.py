"""Templates: the XLSX people fill in, the CSV, and the published Table Schema JSON."""

from __future__ import annotations

import dataclasses
import io
import json
import stat
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from accord.standards import codelists, templates
from accord.standards.queries import bundled_standards
from accord.standards.schema import Standard, parse_standard

STANDARDS = {s.slug: s for s in bundled_standards()}
EVERY_STANDARD = [pytest.param(s, id=s.slug) for s in STANDARDS.values()]
CARE = STANDARDS["care-home-daily-status"]


def _book(standard: Standard) -> openpyxl.Workbook:
    buffer = io.BytesIO()
    templates.write_xlsx(standard, buffer)
    buffer.seek(0)
    return openpyxl.load_workbook(buffer)


def _standard(fields: list[dict[str, Any]], **extra: Any) -> Standard:
    return parse_standard(
        {
            "name": "test-standard",
            "version": "1.0",
            "title": "Test standard",
            "description": "A standard for tests.",
            "accord": {"personalData": False, "rowDescription": "One row per thing"},
            "fields": fields,
            **extra,
        }
    )


def _validations(sheet: Any) -> dict[str, Any]:
    """Each column's data validation, by the column's header name."""
    headers = {cell.column_letter: cell.value for cell in sheet[1]}
    found: dict[str, Any] = {}
    for validation in sheet.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            letter = cell_range.coord.split(":")[0].rstrip("0123456789")
            assert cell_range.coord == f"{letter}2:{letter}{templates.LAST_ROW}"
            found[headers[letter]] = validation
    return found


@pytest.fixture(scope="module")
def care_book() -> openpyxl.Workbook:
    return _book(CARE)


# --- XLSX: sheets, headers ---------------------------------------------------------------------


def test_data_is_the_first_and_active_sheet_and_lists_are_hidden(
    care_book: openpyxl.Workbook,
) -> None:
    assert care_book.sheetnames == ["Data", "Instructions", "Lists"]
    assert care_book.active is not None
    assert care_book.active.title == "Data"
    assert care_book["Lists"].sheet_state == "hidden"
    assert care_book["Data"].sheet_state == care_book["Instructions"].sheet_state == "visible"


def test_headers_are_the_field_names_bold_frozen_and_explained(
    care_book: openpyxl.Workbook,
) -> None:
    data = care_book["Data"]
    assert [c.value for c in data[1]] == [f.name for f in CARE.fields]
    assert data.freeze_panes == "A2"
    assert data.max_row == 1, "no example row that could be submitted by mistake"
    for cell, field in zip(data[1], CARE.fields, strict=True):
        assert cell.font.b
        assert cell.comment is not None
        assert field.title in cell.comment.text
        assert field.description in cell.comment.text
        assert 10 <= data.column_dimensions[cell.column_letter].width <= 45
    required = data["A1"].fill.fgColor.rgb
    optional = data["C1"].fill.fgColor.rgb  # cqc_provider_id is optional
    assert required != optional


def test_identifier_and_text_columns_are_formatted_as_text(
    care_book: openpyxl.Workbook,
) -> None:
    data = care_book["Data"]
    formats = {
        cell.value: data.column_dimensions[cell.column_letter].number_format for cell in data[1]
    }
    for name in ("cqc_location_id", "uprn", "postcode", "ods_code", "ltla_cd", "icb_cd"):
        assert formats[name] == "@", name
    assert formats["care_home_name"] == "@"
    assert formats["ipc_training_completed"] == "@"
    assert formats["report_date"] == "DD/MM/YYYY"
    assert formats["registered_beds"] == "0"


# --- XLSX: data validation ------------------------------------------------------------------


def test_dates_are_validated_from_their_minimum(care_book: openpyxl.Workbook) -> None:
    report_date = _validations(care_book["Data"])["report_date"]
    assert report_date.type == "date"
    assert report_date.operator == "greaterThanOrEqual"
    assert report_date.formula1 == "DATE(2020,1,1)"
    assert report_date.showErrorMessage
    assert report_date.showInputMessage
    assert "1 January 2020" in report_date.error
    assert "DD/MM/YYYY" in report_date.prompt


def test_a_date_without_a_minimum_is_validated_after_1900() -> None:
    standard = _standard(
        [
            {"name": "seen", "type": "date", "format": "any"},
            {"name": "until", "type": "date", "constraints": {"maximum": "2030-12-31"}},
        ]
    )
    checks = _validations(_book(standard)["Data"])
    assert (checks["seen"].operator, checks["seen"].formula1) == (
        "greaterThanOrEqual",
        "DATE(1900,1,1)",
    )
    assert (checks["until"].operator, checks["until"].formula1, checks["until"].formula2) == (
        "between",
        "DATE(1900,1,1)",
        "DATE(2030,12,31)",
    )


def test_counts_and_percentages_are_validated_within_their_range(
    care_book: openpyxl.Workbook,
) -> None:
    checks = _validations(care_book["Data"])
    beds = checks["registered_beds"]
    assert (beds.type, beds.operator, beds.formula1, beds.formula2) == (
        "whole",
        "between",
        "0",
        "1000",
    )
    assert beds.error == "Enter a whole number from 0 to 1,000 in Registered beds."
    booster = checks["residents_booster_pct"]
    assert (booster.type, booster.formula1, booster.formula2) == ("decimal", "0", "100")
    assert "%" in booster.error


def test_open_ended_numbers_are_validated_on_one_side() -> None:
    standard = _standard(
        [
            {"name": "at_least", "type": "integer", "constraints": {"minimum": 1}},
            {"name": "at_most", "type": "number", "constraints": {"maximum": 2.5}},
            {"name": "any_number", "type": "number"},
        ]
    )
    checks = _validations(_book(standard)["Data"])
    assert (checks["at_least"].operator, checks["at_least"].formula1) == ("greaterThanOrEqual", "1")
    assert (checks["at_most"].operator, checks["at_most"].formula1) == ("lessThanOrEqual", "2.5")
    assert checks["any_number"].type == "decimal"


def test_allowed_values_are_an_inline_dropdown(care_book: openpyxl.Workbook) -> None:
    checks = _validations(care_book["Data"])
    service = checks["service_type"]
    assert service.type == "list"
    assert service.formula1 == (
        '"older_adults_residential,older_adults_nursing,younger_adults,'
        'learning_disability,mental_health"'
    )
    assert service.errorStyle == "stop"
    assert "older_adults_nursing" in service.error
    assert checks["ppe_rag"].formula1 == '"red,amber,green,blue"'
    assert checks["ipc_training_completed"].formula1 == '"yes,no"'


def test_code_lists_are_dropdowns_from_the_hidden_lists_sheet(
    care_book: openpyxl.Workbook,
) -> None:
    checks = _validations(care_book["Data"])
    lad25 = sorted(codelists.load("lad25").codes)
    icb = sorted(codelists.load("icb").codes)
    assert checks["ltla_cd"].type == "list"
    assert checks["ltla_cd"].formula1 == f"Lists!$A$2:$A${len(lad25) + 1}"
    assert checks["icb_cd"].formula1 == f"Lists!$C$2:$C${len(icb) + 1}"
    assert "Local authority districts" in checks["ltla_cd"].error
    lists = care_book["Lists"]
    column_a = [c.value for c in lists["A"]]
    assert column_a == ["ltla_cd", *lad25]
    names = dict(zip(column_a[1:], [c.value for c in lists["B"]][1:], strict=True))
    assert names["E07000110"] == "Maidstone"
    assert lists["C1"].value == "icb_cd"
    assert lists["A2"].number_format == "@"


def test_a_long_or_awkward_list_goes_to_the_lists_sheet() -> None:
    long_values = [f"value_number_{n:03d}" for n in range(30)]
    standard = _standard(
        [
            {"name": "long", "constraints": {"enum": long_values}},
            {"name": "comma", "constraints": {"enum": ["a, b", "c"]}},
            {"name": "short", "constraints": {"enum": ["x", "y"]}},
        ]
    )
    book = _book(standard)
    checks = _validations(book["Data"])
    assert len(",".join(long_values)) > templates.INLINE_LIST_LIMIT
    assert checks["long"].formula1 == "Lists!$A$2:$A$31"
    assert checks["comma"].formula1 == "Lists!$B$2:$B$3"
    assert checks["short"].formula1 == '"x,y"'
    assert [c.value for c in book["Lists"]["A"]] == ["long", *long_values]
    assert [c.value for c in book["Lists"]["B"] if c.value is not None] == ["comma", "a, b", "c"]


def test_booleans_offer_the_standards_own_answers() -> None:
    standard = _standard(
        [
            {"name": "default_answers", "type": "boolean"},
            {"name": "letters", "type": "boolean", "trueValues": ["Y"], "falseValues": ["N"]},
        ]
    )
    checks = _validations(_book(standard)["Data"])
    assert checks["default_answers"].formula1 == '"yes,no"'
    assert checks["letters"].formula1 == '"y,n"'


def test_text_limits_and_identifier_prompts(care_book: openpyxl.Workbook) -> None:
    checks = _validations(care_book["Data"])
    name = checks["care_home_name"]
    assert (name.type, name.operator, name.formula1, name.formula2) == (
        "textLength",
        "between",
        "0",
        "200",
    )
    assert name.error == "Care home name must be at most 200 characters long."
    location = checks["cqc_location_id"]
    assert location.type is None, "Accord checks identifiers; Excel only prompts"
    assert location.showInputMessage
    assert "1-1234567890" in location.prompt


def test_every_validation_has_plain_english_messages_within_excels_limits() -> None:
    for standard in STANDARDS.values():
        checks = _validations(_book(standard)["Data"])
        for name, validation in checks.items():
            assert 0 < len(validation.promptTitle or "") <= 32, name
            assert 0 < len(validation.prompt or "") <= 255, name
            if validation.type is not None:
                assert validation.showErrorMessage, name
                assert 0 < len(validation.error or "") <= 225, name
                assert 0 < len(validation.errorTitle or "") <= 32, name
                assert validation.allow_blank, name


# --- XLSX: instructions ----------------------------------------------------------------------


def test_the_instructions_sheet_explains_the_standard_and_every_column(
    care_book: openpyxl.Workbook,
) -> None:
    sheet = care_book["Instructions"]
    rows = [tuple(c for c in row) for row in sheet.iter_rows(values_only=True)]
    text = "\n".join(str(v) for row in rows for v in row if v is not None)
    assert rows[0][0] == "Care home daily status"
    assert CARE.description in text
    assert "One row per care home per day" in text
    assert "no personal data" in text
    assert "How to fill it in" in text
    assert "Do not change, reorder or rename the headers" in text
    assert "DD/MM/YYYY or YYYY-MM-DD" in text
    assert "as text" in text
    assert "report_date and cqc_location_id" in text
    assert "accord validate --standard care-home-daily-status@1.0" in text
    header = rows.index(
        (
            "Column",
            "Title",
            "Required",
            "Type",
            "Allowed values or range",
            "Format",
            "Example",
            "Description",
        )
    )
    table = {row[0]: row for row in rows[header + 1 :]}
    assert list(table) == [f.name for f in CARE.fields]
    assert table["report_date"][1:4] == ("Report date", "yes", "Date")
    assert table["report_date"][5] == "DD/MM/YYYY or YYYY-MM-DD"
    assert table["registered_beds"][4] == "From 0 to 1,000."
    assert table["cqc_provider_id"][2] == "no"
    assert "older_adults_nursing" in table["service_type"][4]
    assert "Local authority districts (LAD25)" in table["ltla_cd"][4]
    assert table["ltla_cd"][6] == "E07000110"


def test_personal_data_standards_say_so_in_the_instructions() -> None:
    sheet = _book(STANDARDS["shielded-patient-list"])["Instructions"]
    text = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert "It holds personal data" in text


# --- neutralising formulas ---------------------------------------------------------------------


def _hostile() -> Standard:
    return _standard(
        [
            {
                "name": "payload",
                "title": '=HYPERLINK("http://evil")',
                "description": "+cmd|' /C calc'!A0",
                "example": "=1+1",
                "constraints": {"enum": ["=1+1", "@SUM(1)", "-2"]},
            },
            {"name": "amount", "type": "number", "example": "-12.5"},
        ],
        title="@evil standard",
    )


def test_no_text_cell_in_the_workbook_can_run_as_a_formula() -> None:
    book = _book(_hostile())
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "@")), cell.value
    instructions = [c for row in book["Instructions"].iter_rows(values_only=True) for c in row]
    assert "'=1+1" in instructions
    assert "-12.5" in instructions, "negative numbers stay numbers"


def test_no_text_cell_in_the_csv_can_run_as_a_formula() -> None:
    buffer = io.BytesIO()
    templates.write_csv(_hostile(), buffer)
    frame = pl.read_csv(io.BytesIO(buffer.getvalue()), infer_schema=False)
    assert frame.row(0) == ("'=1+1", "-12.5")


# --- CSV ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("standard", EVERY_STANDARD)
def test_the_csv_round_trips_through_polars(standard: Standard, tmp_path: Path) -> None:
    path = tmp_path / "template.csv"
    templates.write_csv(standard, path)
    frame = pl.read_csv(path, infer_schema=False)
    assert frame.columns == [f.name for f in standard.fields]
    assert frame.height == 1
    assert frame.row(0) == tuple(f.example or None for f in standard.fields)


def test_the_csv_is_utf8_with_a_byte_order_mark_for_excel() -> None:
    standard = _standard([{"name": "amount", "example": "£12 for Zoë"}])
    buffer = io.BytesIO()
    templates.write_csv(standard, buffer)
    data = buffer.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == "amount\r\n£12 for Zoë\r\n"


# --- JSON ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("standard", EVERY_STANDARD)
def test_the_json_parses_back_to_an_equal_standard(standard: Standard) -> None:
    buffer = io.BytesIO()
    templates.write_schema_json(standard, buffer)
    text = buffer.getvalue().decode("utf-8")
    assert text.startswith('{\n  "name": ')
    assert text.endswith("}\n")
    assert parse_standard(json.loads(text)) == standard


@pytest.mark.parametrize("standard", EVERY_STANDARD)
def test_a_descriptor_rebuilt_from_the_parsed_standard_parses_back_equal(
    standard: Standard,
) -> None:
    bare = dataclasses.replace(standard, descriptor={})
    descriptor = templates.published_descriptor(bare)
    assert parse_standard(json.loads(json.dumps(descriptor))) == standard
    assert descriptor["accord"]["personalData"] is standard.personal_data
    assert [f["name"] for f in descriptor["fields"]] == [f.name for f in standard.fields]


def test_the_json_keeps_non_ascii_text_readable() -> None:
    buffer = io.BytesIO()
    templates.write_schema_json(STANDARDS["fsm-eligibility"], buffer)
    assert "£7,400" in buffer.getvalue().decode("utf-8")


def test_the_json_keeps_descriptor_properties_accord_does_not_use() -> None:
    standard = _standard([{"name": "a"}], licenses=[{"name": "OGL-UK-3.0"}])
    assert templates.published_descriptor(standard)["licenses"] == [{"name": "OGL-UK-3.0"}]


# --- writing files ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", templates.FORMATS)
def test_a_path_is_written_whole_and_readable(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / templates.default_filename(CARE, fmt)
    templates.WRITERS[fmt](CARE, path)
    assert path.stat().st_size > 0
    assert stat.S_IMODE(path.stat().st_mode) == templates.FILE_MODE
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file left behind"


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "template.xlsx"
    path.write_bytes(b"old")

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(templates.os, "replace", broken)
    with pytest.raises(OSError, match="No space"):
        templates.write_xlsx(CARE, path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["template.xlsx"]


def test_default_file_names() -> None:
    assert templates.default_filename(CARE, "xlsx") == "care-home-daily-status-1.0-template.xlsx"
    assert templates.default_filename(CARE, "csv") == "care-home-daily-status-1.0-template.csv"
    assert templates.default_filename(CARE, "json") == "care-home-daily-status-1.0.schema.json"
    with pytest.raises(ValueError, match="xlsx, csv, json"):
        templates.default_filename(CARE, "ods")


def test_rules_in_words() -> None:
    fsm = STANDARDS["fsm-eligibility"]
    assert templates.rules_text(fsm.field("year_group")).startswith("One of: R, 1, 2")
    assert "E09" in templates.rules_text(fsm.field("home_borough_cd"))
    assert templates.rules_text(fsm.field("parent_dob")) == "On or after 1 January 1900."
    assert templates.rules_text(fsm.field("auto_enrolled")) == "Yes or no."
    revenue = STANDARDS["revenue-outturn"]
    assert templates.rules_text(revenue.field("financial_year")) == "In the form 2024-25."
    assert templates.rules_text(revenue.field("net_current_expenditure_gbp")) == (
        "From -10,000,000,000 to 10,000,000,000."
    )


def _instructions_text(standard: Standard) -> str:
    sheet = _book(standard)["Instructions"]
    return " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)


def test_the_date_advice_fits_the_standards_dates() -> None:
    assert "DD/MM/YYYY or YYYY-MM-DD" in _instructions_text(CARE)
    assert "Write dates" not in _instructions_text(STANDARDS["revenue-outturn"])
    iso_only = _standard([{"name": "day", "type": "date"}])
    assert "Write dates in the format the table below gives" in _instructions_text(iso_only)


# --- the validation engine accepts what the templates hold --------------------------------------


@pytest.mark.parametrize("standard", EVERY_STANDARD)
def test_the_csv_example_row_passes_validation(standard: Standard, tmp_path: Path) -> None:
    from accord.submissions.engine import validate_file

    path = tmp_path / templates.default_filename(standard, "csv")
    templates.write_csv(standard, path)
    report = validate_file(path, standard)
    assert report.rows == 1
    assert report.problems.to_dicts() == []


@pytest.mark.parametrize("standard", EVERY_STANDARD)
def test_a_filled_in_xlsx_template_passes_validation(standard: Standard, tmp_path: Path) -> None:
    """The examples typed into the Data sheet as Excel would keep them: numbers as numbers,
    dates as date cells, everything else as text."""
    from accord.submissions.engine import validate_file

    path = tmp_path / templates.default_filename(standard, "xlsx")
    templates.write_xlsx(standard, path)
    book = openpyxl.load_workbook(path)
    sheet = book["Data"]
    for column, field in enumerate(standard.fields, start=1):
        value: object = field.example
        if field.type == "integer":
            value = int(field.example)
        elif field.type == "number":
            value = float(field.example)
        elif field.type == "date":
            value = date.fromisoformat(field.example)
        cell = sheet.cell(row=2, column=column, value=value)
        cell.number_format = sheet.column_dimensions[cell.column_letter].number_format
    book.save(path)
    report = validate_file(path, standard)
    assert report.rows == 1
    assert report.problems.to_dicts() == []
