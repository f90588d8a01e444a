"""The validation engine over real files: what it reports, where, and in what words."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from accord.standards.schema import parse_standard
from accord.submissions.engine import header_key, validate_file
from accord.submissions.exceptions import UnusableFile
from tests.factories import standard_descriptor

HEADER = "Person ID,NHS No,Date of birth,Visits,Category,Has a carer,Notes\n"


@pytest.fixture
def standard():
    return parse_standard(standard_descriptor())


def write(tmp_path: Path, text: str, name: str = "returns.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(report) -> list[tuple[int, str, str]]:
    return [(r["row"], r["field"], r["rule"]) for r in report.problems.to_dicts()]


def test_a_clean_file_is_valid(tmp_path, standard):
    path = write(
        tmp_path,
        HEADER
        + "P001,943 476 5919,03/02/2001,3,Low,Yes,ok\n"
        + "P002,4010232137,2001-02-04,0,high,no,\n",
    )
    report = validate_file(path, standard)
    assert report.rows == 2
    assert report.valid_rows == 2
    assert report.is_valid
    assert report.problems.is_empty()


def test_each_problem_is_named_by_the_row_and_column_the_user_sees(tmp_path, standard):
    path = write(
        tmp_path,
        "Monthly returns from Test Council\n"
        "\n"
        + HEADER
        + "P001,943 476 5918,2001-02-30,3,low,yes,ok\n"
        + "P002,9434765919,2001-02-03,-1,urgent,maybe,far too long a note\n"
        + "\n"
        + "P003,,31/12/2001,12.5,,,\n"
        + "P004,943476591X,unknown,,LOW,N,\n",
    )
    report = validate_file(path, standard)
    assert report.file.header_row == 3
    assert problems(report) == [
        (4, "nhs_number", "nhs_number_check_digit"),
        (4, "date_of_birth", "date_real"),
        (5, "visits", "minimum"),
        (5, "category", "enum"),
        (5, "carer", "boolean"),
        (5, "notes", "max_length"),
        (7, "visits", "integer"),
        (8, "nhs_number", "nhs_number_format"),
        (8, "date_of_birth", "date_format"),
        (8, "visits", "required"),
    ]
    assert report.rows == 4
    assert report.valid_rows == 0
    first = report.problems.row(0, named=True)
    assert first["column"] == "NHS No"
    assert first["letter"] == "B"
    assert first["value"] == "943 476 5918"
    assert first["message"].startswith("Row 4, column B 'NHS No': 943 476 5918 ")
    assert "check digit" in first["message"]


def test_required_means_not_blank_after_trimming(tmp_path, standard):
    path = write(tmp_path, HEADER + '"   ",9434765919,,"  ",,,\n')
    report = validate_file(path, standard)
    assert {(p[1], p[2]) for p in problems(report)} == {
        ("person_id", "required"),
        ("visits", "required"),
    }


def test_duplicates_are_found_across_batches_and_every_copy_is_named(tmp_path, standard):
    rows = [f"P{n:03d},,,1,,,\n" for n in range(1, 8)] + ["P002,,,1,,,\n"]
    path = write(tmp_path, HEADER + "".join(rows))
    report = validate_file(path, standard, batch_rows=3)
    dupes = report.problems.filter(pl.col("rule") == "unique")
    assert dupes["row"].to_list() == [3, 9]
    assert dupes["message"][0] == (
        "Row 3, column A 'Person ID': P002 is on 2 rows (3, 9), but each row needs its own "
        "Person ID. Remove the repeats or correct them."
    )
    assert report.valid_rows == 6


def test_primary_key_duplicates_over_two_columns(tmp_path):
    standard = parse_standard(standard_descriptor(primaryKey=["category", "visits"]))
    path = write(tmp_path, HEADER + "P001,,,1,low,,\nP002,,,1,LOW,,\nP003,,,2,low,,\n")
    report = validate_file(path, standard)
    assert [(p[0], p[2]) for p in problems(report)] == [(2, "primary_key"), (3, "primary_key")]


def test_missing_required_column_and_unknown_column(tmp_path, standard):
    path = write(tmp_path, "Person ID,NHS No,Category,Shoe size\nP001,9434765919,low,9\n")
    report = validate_file(path, standard)
    found = {(p["rule"], p["severity"], p["column"]) for p in report.problems.to_dicts()}
    assert ("missing_column", "error", "Visits") in found
    assert ("unknown_column", "warning", "Shoe size") in found
    assert not report.is_valid
    assert report.valid_rows == 0  # every row lacks a value the standard requires


def test_the_wrong_standard_is_unusable(tmp_path, standard):
    path = write(tmp_path, "Home,Beds,Staff\nOakleigh,30,12\n")
    with pytest.raises(UnusableFile) as refused:
        validate_file(path, standard)
    assert refused.value.code == "wrong_standard"
    assert "Test returns" in refused.value.message


def test_headers_match_ignoring_case_spacing_and_punctuation(tmp_path, standard):
    assert header_key(" NHS   No. ") == header_key("nhs_no")
    path = write(
        tmp_path,
        "PERSON_ID, nhs no. ,date-of-birth,VISITS\nP001,9434765919,1/2/2001,1\n",
    )
    report = validate_file(path, standard)
    assert report.is_valid, report.problems


def test_column_quality(tmp_path, standard):
    path = write(tmp_path, HEADER + "P001,,,1,low,,\nP002,,,x, LOW,,\nP003,,,2,high,,\n")
    report = validate_file(path, standard)
    visits = next(c for c in report.columns if c.field == "visits")
    assert (visits.present, visits.valid, visits.distinct) == (3, 2, 3)
    assert visits.completeness == 1.0
    assert visits.validity == pytest.approx(2 / 3)
    # " LOW" is cleaned to "low" on the full path and counted once, with the fast-path rows.
    category = next(c for c in report.columns if c.field == "category")
    assert (category.present, category.valid, category.distinct) == (3, 3, 2)
    nhs = next(c for c in report.columns if c.field == "nhs_number")
    assert nhs.completeness == 0.0
    assert nhs.validity is None


def test_progress_is_reported_per_batch(tmp_path, standard):
    path = write(tmp_path, HEADER + "".join(f"P{n:03d},,,1,,,\n" for n in range(10)))
    seen = []
    validate_file(path, standard, batch_rows=4, progress=lambda done, total: seen.append(done))
    assert seen[-1] == 10
    assert len(seen) >= 3
    assert seen == sorted(seen)


def test_xlsx_with_a_title_row_dates_and_numbers_typed_as_numbers(tmp_path, standard):
    import datetime as dt

    from tests import files

    path = files.xlsx_file(
        tmp_path,
        {
            "Data": [
                ["Returns for March"],
                [],
                ["Person ID", "NHS No", "Date of birth", "Visits", "Category"],
                ["P001", 9434765919, dt.date(2001, 2, 3), 3, "low"],
                ["P002", "943 476 5918", "31/12/2001", 2.5, "LOW"],
            ]
        },
    )
    report = validate_file(path, standard)
    assert report.file.kind == "xlsx"
    assert report.file.header_row == 3
    assert problems(report) == [
        (5, "nhs_number", "nhs_number_check_digit"),
        (5, "visits", "integer"),
    ]
    assert report.problems.row(0, named=True)["letter"] == "B"
