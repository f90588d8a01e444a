"""`accord standards list`, `show` and `template`, through the real `accord` parser."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from django.db import OperationalError

from accord.cli import main as cli_main
from accord.cli.common import EXIT_OK, EXIT_UNUSABLE
from accord.standards import queries
from accord.standards.models import PublishedStandard
from accord.standards.schema import parse_standard

pytestmark = pytest.mark.django_db

CARE = "care-home-daily-status"


def run(*argv: str) -> int:
    return cli_main.main(list(argv))


# --- list ---------------------------------------------------------------------------------------


def test_list_shows_every_standard_in_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("standards", "list") == EXIT_OK
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["Standard", "Version", "Title", "Personal", "data", "Columns"]
    care = next(line for line in lines if line.startswith(CARE))
    assert care.split()[:2] == [CARE, "1.0"]
    assert "Care home daily status" in care
    assert care.split()[-2:] == ["no", "35"]
    shielded = next(line for line in lines if line.startswith("shielded-patient-list"))
    assert shielded.split()[-2] == "yes"
    assert "9 standard(s)" in out


def test_list_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("standards", "list", "--format", "json") == EXIT_OK
    listing = json.loads(capsys.readouterr().out)
    assert len(listing) == 9
    care = next(item for item in listing if item["slug"] == CARE)
    assert care == {
        "slug": CARE,
        "version": "1.0",
        "title": "Care home daily status",
        "personalData": False,
        "columns": 35,
        "versions": ["1.0"],
    }


def test_list_shows_the_newest_published_version(capsys: pytest.CaptureFixture[str]) -> None:
    _publish_revenue_outturn_1_1()
    assert run("standards", "list", "--format", "json") == EXIT_OK
    listing = json.loads(capsys.readouterr().out)
    revenue = next(item for item in listing if item["slug"] == "revenue-outturn")
    assert (revenue["version"], revenue["versions"]) == ("1.1", ["1.0", "1.1"])


def test_list_falls_back_to_the_bundled_standards_without_a_database(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_table() -> None:
        raise OperationalError("no such table: standards_publishedstandard")

    monkeypatch.setattr(queries, "published_standards", no_table)
    assert run("standards", "list") == EXIT_OK
    captured = capsys.readouterr()
    assert CARE in captured.out
    assert "bundled standards only" in captured.err
    assert "accord manage migrate" in captured.err


def test_the_bare_group_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("standards") == EXIT_UNUSABLE
    out = capsys.readouterr().out
    for command in ("list", "show", "template"):
        assert command in out


# --- show ---------------------------------------------------------------------------------------


def test_show_lists_columns_with_type_need_and_rules(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert run("standards", "show", CARE) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("Care home daily status (care-home-daily-status@1.0)\n")
    assert max(len(line) for line in out.splitlines()) <= 100
    words = " ".join(out.split())
    assert "One row per care home per day." in words
    assert "Each row is identified by report_date and cqc_location_id." in words
    assert "Columns (35):" in out
    beds = next(line for line in out.splitlines() if line.strip().startswith("registered_beds"))
    assert beds.split()[:4] == ["registered_beds", "Whole", "number", "required"]
    assert "From 0 to 1,000." in beds
    optional = next(line for line in out.splitlines() if "cqc_provider_id" in line)
    assert "optional" in optional
    assert "older_adults_nursing" in out
    assert "Local authority districts (LAD25)" in words
    assert "accord standards template care-home-daily-status@1.0" in out


def test_show_a_named_version(capsys: pytest.CaptureFixture[str]) -> None:
    _publish_revenue_outturn_1_1()
    assert run("standards", "show", "revenue-outturn@1.0") == EXIT_OK
    assert "(revenue-outturn@1.0)" in capsys.readouterr().out
    assert run("standards", "show", "revenue-outturn") == EXIT_OK
    assert "(revenue-outturn@1.1)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no-such-standard", "There is no standard called 'no-such-standard'."),
        (f"{CARE}@9.9", f"Standard '{CARE}' has no version 9.9; published versions are 1.0."),
        (f"{CARE}@", f"Give a version after the @, like {CARE}@1.0"),
    ],
)
def test_show_an_unknown_standard_or_version(
    name: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("standards", "show", name) == EXIT_UNUSABLE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("accord standards show: ")
    assert message in captured.err


# --- template -----------------------------------------------------------------------------------


def test_template_writes_the_xlsx_in_the_current_folder_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("standards", "template", CARE) == EXIT_OK
    path = tmp_path / "care-home-daily-status-1.0-template.xlsx"
    assert capsys.readouterr().out == (
        "Wrote the spreadsheet template for Care home daily status "
        f"(care-home-daily-status@1.0) to {path}.\n"
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Data", "Instructions", "Lists"]
    assert book["Data"]["A1"].value == "report_date"


def test_template_as_csv_to_a_named_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mine.csv"
    assert run("standards", "template", f"{CARE}@1.0", "--format", "csv", "-o", str(path)) == 0
    assert str(path) in capsys.readouterr().out
    frame = pl.read_csv(path, infer_schema=False)
    assert frame.columns[:2] == ["report_date", "cqc_location_id"]
    assert frame.row(0)[:2] == ("2026-03-02", "1-1234567890")


def test_template_as_json_into_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("standards", "template", CARE, "--format", "json", "--output", str(tmp_path)) == 0
    path = tmp_path / "care-home-daily-status-1.0.schema.json"
    assert "Table Schema (JSON)" in capsys.readouterr().out
    assert parse_standard(json.loads(path.read_text(encoding="utf-8"))) == queries.get_standard(
        CARE
    )


def test_template_of_a_published_version(tmp_path: Path) -> None:
    _publish_revenue_outturn_1_1()
    assert (
        run("standards", "template", "revenue-outturn", "--format", "json", "-o", str(tmp_path))
        == 0
    )
    written = json.loads((tmp_path / "revenue-outturn-1.1.schema.json").read_text())
    assert written["version"] == "1.1"


def test_template_refuses_to_overwrite_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "existing.xlsx"
    path.write_bytes(b"keep me")
    assert run("standards", "template", CARE, "-o", str(path)) == EXIT_UNUSABLE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path} already exists and was left as it was" in captured.err
    assert "--force" in captured.err
    assert path.read_bytes() == b"keep me"

    assert run("standards", "template", CARE, "-o", str(path), "--force") == EXIT_OK
    assert openpyxl.load_workbook(path).sheetnames[0] == "Data"


@pytest.mark.parametrize("name", ["no-such-standard", f"{CARE}@2.0"])
def test_template_of_an_unknown_standard_or_version_writes_nothing(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("standards", "template", name, "--format", "csv") == EXIT_UNUSABLE
    captured = capsys.readouterr()
    assert captured.err.startswith("accord standards template: ")
    assert captured.out == ""
    assert list(tmp_path.iterdir()) == []


def test_template_into_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "missing" / "t.xlsx"
    assert run("standards", "template", CARE, "-o", str(target)) == EXIT_UNUSABLE
    assert f"there is no folder {target.parent}" in capsys.readouterr().err


def test_template_rejects_an_unknown_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run("standards", "template", CARE, "--format", "ods")
    assert exit_info.value.code == 2
    assert "invalid choice: 'ods'" in capsys.readouterr().err


def _publish_revenue_outturn_1_1() -> None:
    bundled = queries.get_standard("revenue-outturn", "1.0")
    descriptor = {**bundled.descriptor, "version": "1.1", "title": "Revenue budget and outturn"}
    PublishedStandard.objects.create(
        slug="revenue-outturn",
        version="1.1",
        title=descriptor["title"],
        descriptor=descriptor,
        published_by="test",
    )


# --- publish ------------------------------------------------------------------------------------


def test_publish_a_new_standard_then_refuse_the_same_version(tmp_path, capsys) -> None:
    from accord.audit.models import AuditEvent
    from tests.factories import standard_descriptor

    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(standard_descriptor()), encoding="utf-8")
    assert run("standards", "publish", str(schema)) == EXIT_OK
    assert "Published Test returns (test-returns@1.0), 7 columns." in capsys.readouterr().out
    assert PublishedStandard.objects.filter(slug="test-returns", version="1.0").exists()
    event = AuditEvent.objects.filter(action="standard.published").get()
    assert event.actor_label == "accord standards publish"
    assert run("standards", "publish", str(schema)) == EXIT_UNUSABLE
    assert "already published" in capsys.readouterr().err


def test_publish_names_every_problem_and_publishes_nothing(tmp_path, capsys) -> None:
    from tests.factories import standard_descriptor

    schema = tmp_path / "bad.json"
    bad = standard_descriptor(name="Bad Name", fields=[{"name": "x", "type": "colour"}])
    schema.write_text(json.dumps(bad), encoding="utf-8")
    assert run("standards", "publish", str(schema)) == EXIT_UNUSABLE
    err = capsys.readouterr().err
    assert "'name' must be a slug" in err
    assert "type 'colour' is not one of" in err
    not_json = tmp_path / "not.json"
    not_json.write_text("{nope", encoding="utf-8")
    assert run("standards", "publish", str(not_json)) == EXIT_UNUSABLE
    assert "is not a usable schema" in capsys.readouterr().err
    assert run("standards", "publish", str(tmp_path / "missing.json")) == EXIT_UNUSABLE
    assert "cannot read" in capsys.readouterr().err
    assert not PublishedStandard.objects.exists()
