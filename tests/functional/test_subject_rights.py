"""In the browser, issue 10's subject rights story on the demo.

Maidstone's analyst takes an extract of Kent's housing benefit claims (Maidstone's residents
only). A Maidstone resident asks Kent what it holds about her. Kent's DPO searches by her
home's UPRN and finds her in three of Kent's datasets (housing benefit, adult social care and
free school meals: each as its accepted return and its compiled collection) and the extract
sent to Maidstone. The DPO downloads the report, corrects her date of birth (day and month
were swapped; free school meals has it as the parent's) and sees Maidstone told; Maidstone's
analyst confirms the copy is corrected, and Kent's certificate shows it. Then she asks to be
erased: the DPO erases her, with a certificate, and a new search finds nothing. Every page
passes axe. (The breach story is ``test_breach``.)
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from accord.demo.housing_benefit import NAME as HB_NAME
from accord.demo.loader import load_demo
from accord.demo.vulnerability_setup import SOURCES_BY_STANDARD
from accord.rights.models import ChangeKind, SubjectChange

from .conftest import assert_accessible
from .test_breach import _take_an_extract
from .test_governed_access import (
    _SIGNED_IN,
    DEMO_PASSWORD,
    KENT_DPO,
    MAIDSTONE_ANALYST,
    _sign_in,
    _sign_out,
)

# A claimant household in Maidstone whose head is in all three of Kent's datasets (see
# ``accord.demo.vulnerability.truth``: the same person every month).
UPRN = "995209386507"
ASC_NAME = SOURCES_BY_STANDARD["adult-social-care-services"].name
FSM_NAME = SOURCES_BY_STANDARD["fsm-eligibility"].name
MAIDSTONE = "Maidstone Borough Council"


def _search(page: Page) -> None:
    page.get_by_label("UPRN").fill(UPRN)
    page.get_by_role("button", name="Search").click()


def test_a_dpo_finds_corrects_and_erases_one_resident(
    page: Page, transactional_db, task_worker
) -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    _SIGNED_IN.clear()

    # 1. Maidstone's analyst takes an extract of Kent's housing benefit claims.
    _take_an_extract(page, summary)
    _sign_out(page)

    # 2. Kent's DPO finds the resident, from "Who used our data".
    _sign_in(page, summary, KENT_DPO)
    page.goto("/usage/")
    page.locator("#find-a-person").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a person's data")
    assert_accessible(page)
    page.get_by_role("button", name="Search").click()  # nothing entered: told what to enter
    expect(page.locator(".govuk-error-summary")).to_contain_text("Search by NHS number")
    _search(page)
    expect(page.locator("#result")).to_have_text("Found in 6 places")
    held = page.locator(".govuk-summary-card__title")
    for name in (HB_NAME, ASC_NAME, FSM_NAME):
        expect(held.filter(has_text="Accepted rows").filter(has_text=name)).to_have_count(1)
        expect(held.filter(has_text=f"Compiled collection {name}")).to_have_count(1)
    recipients = page.locator("#recipients")
    expect(recipients).to_contain_text(MAIDSTONE)
    expect(recipients).to_contain_text("Extract")
    assert_accessible(page)
    with page.expect_download() as waiting:
        page.locator("#download").click()
    book = load_workbook(io.BytesIO(Path(waiting.value.path()).read_bytes()))
    assert book.sheetnames[:2] == ["About this search", "Who received it"]
    assert [c.value for c in book["Who received it"]["A"]][1:] == [MAIDSTONE]
    assert len(book.sheetnames) == 2 + 6

    # 3. The DPO corrects her date of birth: day and month were swapped.
    page.locator("#change-details summary").click()
    page.get_by_label("Correct a field that is wrong").check()
    page.get_by_label("Field to correct").select_option("date_of_birth")
    page.get_by_label("Its right value").fill("1990-04-05")
    page.get_by_role("button", name="Make the change").click()
    # First, a mistake: no reason given. The page says what is missing, and keeps the search.
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why the data must change")
    assert_accessible(page)
    page.get_by_label("Why").fill("Her birth certificate: 5 April 1990, not 4 May")
    page.get_by_role("button", name="Make the change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Correction certificate")
    correction = SubjectChange.objects.get(kind=ChangeKind.RECTIFICATION)
    expect(page.locator("#certificate-summary")).to_have_text(f"{correction.rows} rows corrected")
    # Her rows in all three datasets, as returns and compiled: free school meals keeps her date
    # of birth as parent_dob, and is corrected too.
    expect(page.locator("#rewritten tbody tr")).to_have_count(6)
    assert correction.rows == 8  # housing benefit 1, social care 2, free school meals 1; twice
    notices = page.locator("#notices")
    expect(notices).to_contain_text(MAIDSTONE)
    expect(notices).to_contain_text("Waiting")
    expect(page.locator("#destroyed")).to_contain_text("Extract file")
    assert_accessible(page)
    _sign_out(page)

    # 4. Maidstone is told, and confirms its copy is corrected.
    _sign_in(page, summary, MAIDSTONE_ANALYST)
    page.goto("/organisation/erasures-and-corrections/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Erasures and corrections to make")
    row = page.locator("#notices tbody tr").first
    expect(row).to_contain_text("Kent County Council")
    expect(row).to_contain_text("Correction of date_of_birth")
    assert_accessible(page)
    row.get_by_role("button", name="Confirm done").click()
    expect(page.locator("#notices tbody tr").first).to_contain_text("Done")
    assert_accessible(page)
    _sign_out(page)

    # 5. Kent's certificate shows it done; then the DPO erases her.
    _sign_in(page, summary, KENT_DPO)
    page.goto(f"/organisation/subject-changes/{correction.pk}/")
    expect(page.locator("#notices")).to_contain_text("Done")
    page.goto("/organisation/subject-access/")
    _search(page)
    expect(page.locator("#result")).to_have_text("Found in 6 places")
    page.locator("#change-details summary").click()
    page.get_by_label("Erase this person's data").check()
    page.get_by_label("Why").fill("Article 17(1)(b): she withdrew consent and nothing else applies")
    page.get_by_role("button", name="Make the change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erasure certificate")
    erasure = SubjectChange.objects.get(kind=ChangeKind.ERASURE)
    expect(page.locator("#certificate-summary")).to_have_text(f"{erasure.rows} rows erased")
    expect(page.locator("#rewritten tbody tr")).to_have_count(6)
    expect(page.locator("#destroyed")).to_contain_text("Upload")
    assert_accessible(page)
    page.goto("/organisation/subject-access/")
    _search(page)
    expect(page.locator("#result")).to_have_text("Not found")
    assert_accessible(page)
