"""`accord validate` through the real `accord` parser: exit status 0, 1 or 2, the JSON and text
reports, the CSV and highlighted-copy exports, and plain messages (never a traceback) for files
that cannot be used."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from accord.cli.common import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE
from accord.cli.main import main
from tests import files
from tests.factories import care_home_csv as care_home_return

CARE = "care-home-daily-status"
pytestmark = pytest.mark.django_db


def care_home_csv(folder: Path, *changes: dict[str, str], name: str = "homes.csv") -> Path:
    path = folder / name
    path.write_bytes(care_home_return(*changes))
    return path


def validate(*argv: str) -> int:
    return main(["validate", "--standard", CARE, *argv])


def test_a_good_file_exits_0(tmp_path, capsys) -> None:
    assert validate(str(care_home_csv(tmp_path, {}, {}))) == EXIT_OK
    out = capsys.readouterr().out
    assert "2 rows: 2 valid, 0 with errors." in out
    assert "The file meets the standard." in out


def test_a_bad_file_exits_1_and_the_json_names_row_column_rule_value_message(
    tmp_path, capsys
) -> None:
    path = care_home_csv(
        tmp_path, {}, {"registered_beds": "forty"}, {"postcode": "ME14 1XX9", "uprn": ""}
    )
    assert validate(str(path), "--format", "json") == EXIT_PROBLEM
    report = json.loads(capsys.readouterr().out)
    assert (report["rows"], report["valid_rows"], report["valid"]) == (3, 1, False)
    errors = {(e["row"], e["column"], e["rule"], e["value"]) for e in report["errors"]}
    assert (3, "registered_beds", "integer", "forty") in errors
    assert (4, "postcode", "postcode_format", "ME14 1XX9") in errors
    first = next(e for e in report["errors"] if e["rule"] == "integer")
    assert first["message"].startswith("Row 3, column ")
    assert "forty is not a whole number" in first["message"]
    assert {"row", "column", "rule", "value", "message"} <= set(first)
    assert any(r["rule"] == "integer" and r["count"] == 1 for r in report["rules"])
    beds = next(c for c in report["columns"] if c["field"] == "registered_beds")
    assert beds["completeness"] == 1.0
    assert beds["validity"] == pytest.approx(2 / 3)


def test_text_report_groups_problems_by_rule_with_counts(tmp_path, capsys) -> None:
    bad = [{"registered_beds": "x"} for _ in range(12)]
    assert validate(str(care_home_csv(tmp_path, *bad))) == EXIT_PROBLEM
    out = capsys.readouterr().out
    assert "Not a whole number in 'registered_beds': 12" in out
    assert "… and 2 more of these." in out
    assert "Column quality" in out


def test_a_version_can_be_named(tmp_path, capsys) -> None:
    assert main(["validate", "--standard", f"{CARE}@1.0", str(care_home_csv(tmp_path, {}))]) == 0
    assert f"({CARE}@1.0)" in capsys.readouterr().out


def test_report_csv_and_highlighted_copy(tmp_path, capsys) -> None:
    path = care_home_csv(tmp_path, {}, {"care_home_name": '=HYPERLINK("x")', "ppe_rag": "pink"})
    report_csv = tmp_path / "problems.csv"
    annotated = tmp_path / "checked.xlsx"
    status = validate(str(path), "--report-csv", str(report_csv), "--annotated", str(annotated))
    assert status == EXIT_PROBLEM
    problems = pl.read_csv(report_csv, infer_schema=False)
    assert problems["rule"].to_list() == ["enum"]
    assert problems["value"].to_list() == ["pink"]
    sheet = openpyxl.load_workbook(annotated)["Checked data"]
    flagged = [(c.row, c.value) for row in sheet.iter_rows() for c in row if c.comment]
    assert flagged == [(3, "pink")]
    cells = [c.value for row in sheet.iter_rows() for c in row]
    assert '\'=HYPERLINK("x")' in cells  # never written as a formula
    assert '=HYPERLINK("x")' not in cells


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--standard", "no-such-standard"], "There is no standard called 'no-such-standard'"),
        (["--standard", f"{CARE}@9.9"], "has no version 9.9"),
    ],
)
def test_unknown_standards_exit_2(tmp_path, capsys, argv, expected) -> None:
    path = care_home_csv(tmp_path, {})
    assert main(["validate", *argv, str(path)]) == EXIT_UNUSABLE
    assert expected in capsys.readouterr().err


def test_a_missing_file_exits_2(tmp_path, capsys) -> None:
    assert validate(str(tmp_path / "nowhere.csv")) == EXIT_UNUSABLE
    assert "There is no file at" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda folder: files.write_bytes(folder, "empty.csv", b""), "empty"),
        (files.zip_bomb_xlsx, "zip_bomb"),
        (files.billion_laughs_xlsx, "xml_bomb"),
        (files.macro_workbook, "macros"),
        (files.encrypted_xlsx, "encrypted"),
        (files.pdf_file, "not_a_spreadsheet"),
        (
            lambda folder: files.write_bytes(
                folder, "nul.csv", b"a,b\n" + b"1,2\n" * 1000 + b"3,\x004\n"
            ),
            "nul_bytes",
        ),
        (
            lambda folder: files.write_bytes(folder, "other.csv", b"Home,Shoe size\nA,9\n"),
            "wrong_standard",
        ),
    ],
)
def test_unusable_files_exit_2_with_a_plain_message(tmp_path, capsys, make, code) -> None:
    path = make(tmp_path)
    assert validate(str(path), "--format", "json") == EXIT_UNUSABLE
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"usable": False, "code": code, "message": ANY_TEXT}
    assert "could not be checked" in captured.err
    assert "Traceback" not in captured.err


class _AnyText:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and len(other) > 20


ANY_TEXT = _AnyText()


def test_the_exports_never_overwrite_the_file_being_checked(tmp_path, capsys) -> None:
    path = care_home_csv(tmp_path, {})
    assert validate(str(path), "--report-csv", str(path)) == EXIT_UNUSABLE
    assert "would overwrite" in capsys.readouterr().err
    assert pl.read_csv(path).height == 1


def test_a_progress_bar_on_a_terminal_for_large_files(tmp_path, capsys, monkeypatch) -> None:
    from accord.submissions import cli

    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 0)
    monkeypatch.setattr(cli, "BAR_BATCH_ROWS", 2)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    path = care_home_csv(tmp_path, {}, {}, {}, {}, {})
    assert validate(str(path)) == EXIT_OK
    err = capsys.readouterr().err
    assert "Checking: 100%" in err
    assert "5.00/5.00" in err
