"""In the browser: a council data officer downloads the care home template from its page, fills
it in badly, and both the page's check-a-file form and `accord validate` say exactly what to
fix, by the row and column the spreadsheet shows."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import openpyxl
from playwright.sync_api import Page, expect

from accord.cli.main import main as accord
from accord.demo.loader import load_demo
from accord.standards.queries import get_standard

from .conftest import assert_accessible
from .test_people_and_organisations import sign_in

DEMO_PASSWORD = "demo-persona-password-for-tests"
OFFICER = "officer@maidstone.demo.accord.test"
TITLE = "Care home daily status"


def _key(summary, username: str) -> bytes:
    persona = next(p for p in summary.personas if p.username == username)
    secret = persona.totp_secret
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def fill_badly(template: Path, target: Path) -> None:
    """Two rows in the downloaded template: one right, one with four mistakes."""
    workbook = openpyxl.load_workbook(template)
    sheet = workbook["Data"]
    headers = [cell.value for cell in sheet[1]]
    examples = {f.name: f.example for f in get_standard("care-home-daily-status").fields}
    good = dict(examples)
    bad = dict(examples)
    bad.update(
        cqc_location_id="1-999999999",
        postcode="ME14 1XX9",  # not a postcode
        registered_beds="forty",  # not a whole number
        occupied_beds="",  # required, left empty
        outbreak_status="maybe",  # not one of the allowed values
    )
    for row_number, values in ((2, good), (3, bad)):
        for column, name in enumerate(headers, start=1):
            sheet.cell(row=row_number, column=column, value=values.get(name))
    workbook.save(target)


def test_a_data_officer_fixes_a_badly_filled_care_home_template(
    page: Page, transactional_db, tmp_path, capsys
) -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    sign_in(page, OFFICER, DEMO_PASSWORD, _key(summary, OFFICER))

    page.get_by_role("link", name="Data standards").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Data standards")
    assert_accessible(page)
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert_accessible(page)
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Spreadsheet template (XLSX)").click()
    template = tmp_path / waiting.value.suggested_filename
    shutil.copy(waiting.value.path(), template)
    assert template.name == "care-home-daily-status-1.0-template.xlsx"

    filled = tmp_path / "oakleigh-return.xlsx"
    fill_badly(template, filled)

    page.get_by_role("link", name="Check a file against this standard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check a file")
    assert_accessible(page)
    page.get_by_label("Upload a file").set_input_files(str(filled))
    page.get_by_role("button", name="Check file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your file has 4 problems to fix")
    problems = page.locator("#problems")
    expect(problems).to_contain_text("ME14 1XX9 is not a UK postcode")
    expect(problems).to_contain_text("forty is not a whole number")
    expect(problems).to_contain_text("maybe is not one of the values allowed")
    expect(problems.locator("tbody tr")).to_have_count(4)
    for row in problems.locator("tbody tr").all():
        expect(row.locator("td").first).to_have_text("3")
    expect(page.locator("#summary")).to_contain_text("Rows with no errors")
    assert_accessible(page)

    # The same file on the command line: the same problems, exit status 1.
    status = accord(
        ["validate", "--standard", "care-home-daily-status", str(filled), "--format", "json"]
    )
    assert status == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["rows"], report["valid_rows"]) == (2, 1)
    assert sorted(e["rule"] for e in report["errors"]) == sorted(
        ["postcode_format", "integer", "required", "enum"]
    )
    assert {e["row"] for e in report["errors"]} == {3}

    # Fixed, it passes in both.
    workbook = openpyxl.load_workbook(filled)
    sheet = workbook["Data"]
    sheet.delete_rows(3)
    workbook.save(filled)
    page.get_by_role("link", name="Check another file").click()
    page.get_by_label("Upload a file").set_input_files(str(filled))
    page.get_by_role("button", name="Check file").click()
    expect(page.locator("#result")).to_contain_text("Your file meets the standard")
    assert_accessible(page)
    assert accord(["validate", "--standard", "care-home-daily-status", str(filled)]) == 0
