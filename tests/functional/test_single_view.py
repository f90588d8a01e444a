"""Issue 9's "Done when", in a real browser on the demo: Maidstone's analyst runs the single
view of vulnerability over the council's and its partners' datasets (the real worker links
them, the page shows progress), reads the quality report, reviews a few borderline pairs side
by side, runs it again with those decisions, and gets a linked, governed dataset: its records
and the one-row-per-household view, with the agreements it rests on and the date it must go
by. Every page passes axe."""

from __future__ import annotations

import base64
import re

from playwright.sync_api import Page, expect

from accord.demo.loader import load_demo
from accord.linkage.models import JobState, LinkageJob

from .conftest import assert_accessible
from .test_people_and_organisations import sign_in

DEMO_PASSWORD = "demo-persona-password-for-tests"
ANALYST = "analyst@midkent.demo.accord.test"
LINKING = 180_000  # ms: the demo's five datasets, linked by the worker beside the server


def _key(summary, username: str) -> bytes:
    persona = next(p for p in summary.personas if p.username == username)
    secret = persona.totp_secret
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def _finished(page: Page) -> None:
    expect(page.locator("[data-task-progress-text]")).to_contain_text("Finished", timeout=LINKING)
    page.get_by_role("link", name="See the result").click()
    expect(page.locator("#job-state")).to_contain_text("Linked")


def test_a_council_analyst_runs_the_single_view_and_reviews_pairs(
    page: Page, transactional_db, task_worker
) -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    sign_in(page, ANALYST, DEMO_PASSWORD, _key(summary, ANALYST))
    page.get_by_role("link", name="Linkage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record linkage")
    offer = page.locator("#single-view")
    for name in (
        "Council tax",
        "Housing benefit",
        "Adult social care",
        "Shielded patient",
        "Free school meals",
    ):
        expect(offer).to_contain_text(name)
    assert_accessible(page)
    page.get_by_role("button", name="Run the single view of vulnerability").click()
    expect(page.locator(".accord-task-progress")).to_be_visible()
    assert_accessible(page)
    _finished(page)

    # The quality report: links by stage, a chart with its table, estimated precision.
    expect(page.locator("#stages")).to_contain_text("Exact match on a strong identifier")
    expect(page.locator("#stages")).to_contain_text("Probabilistic match")
    expect(page.locator("#histogram svg")).to_be_visible()
    expect(page.locator("#precision")).to_contain_text("%")
    expect(page.locator("#households-total")).to_contain_text("households")
    expect(page.locator("#categories svg")).to_be_visible()
    expect(page.locator("#agreements")).to_contain_text("single view of vulnerability")
    expect(page.locator("#retention")).to_contain_text("earliest deadline")
    assert_accessible(page)

    # Review a few borderline pairs: the first two the same, the third not.
    page.get_by_role("link", name="Review borderline pairs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review borderline pairs")
    expect(page.locator("#pair-count")).to_contain_text("to review")
    assert_accessible(page)
    for index, verdict in ((1, "Yes, the same"), (2, "Yes, the same"), (3, "No, different")):
        card = page.locator(".govuk-summary-card").nth(index - 1)
        card.get_by_label(verdict).check()
        card.get_by_role("button", name="Save decision").click()
        expect(
            page.locator(".govuk-summary-card").nth(index - 1).locator("[data-decided]")
        ).to_be_visible()
    job = LinkageJob.objects.get()
    assert job.decisions.count() == 3
    # More pairs wait on the next page, the next most likely first.
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("#pair-count")).to_contain_text("page 2 of")
    expect(page.locator(".govuk-summary-card").first).to_contain_text("Pair 26")
    assert_accessible(page)
    page.get_by_role("button", name="Run again with your decisions").click()
    _finished(page)
    expect(page.locator("#clerical")).to_contain_text("3 pairs reviewed in this run")
    expect(page.locator("#stages")).to_contain_text("Confirmed by a reviewer")
    assert_accessible(page)

    # The linked, governed dataset: its records and households download.
    with page.expect_download() as waiting:
        page.locator("#download-view").click()
    households = waiting.value.path().read_text(encoding="utf-8-sig")
    assert households.splitlines()[0].startswith("uprn,")
    assert re.search(r"\b(critical|high|medium|low)\b", households)
    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert job.runs == 2
    assert job.linked is not None
    assert job.linked.retention_deadline is not None
