"""Issue 8's "Done when", in a real browser on the demo: a care home sends today's status on
the form; the real worker checks it, compiles the collection and remakes the dashboard; the
combined authority's analyst sees today's figures with suppressed and rounded counts of
people, charts and their tables; and each contributing council (Kent, Medway) finds the
output made from its data on its "Returned to you" page, its own area highlighted and
compared. Every page passes axe."""

from __future__ import annotations

import base64
import re
import time

from django.utils import timezone
from playwright.sync_api import Page, expect

from accord.demo import outputs as demo_outputs
from accord.demo.loader import load_demo
from accord.outputs import queries
from accord.outputs.models import OutputDefinition

from .conftest import assert_accessible
from .test_care_home_status_form import OAKLEIGH, _about_the_home, _figures, _open_form
from .test_people_and_organisations import sign_in

DEMO_PASSWORD = "demo-persona-password-for-tests"
GMCA = "analyst@gmca.demo.accord.test"
KENT = "analyst@kent.demo.accord.test"
MEDWAY = "officer@medway.demo.accord.test"


def _key(summary, username: str) -> bytes:
    persona = next(p for p in summary.personas if p.username == username)
    secret = persona.totp_secret
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def _sign_out(page: Page) -> None:
    page.locator("#sign-out").click()


def _wait_for(condition, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.25)


def test_care_homes_submit_and_the_outputs_return_to_every_contributor(
    page: Page, transactional_db, task_worker
) -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    today = timezone.localdate()
    definition = OutputDefinition.objects.get(slug=demo_outputs.SLUG)
    # The worker beside the server may still be making the demo's first output.
    _wait_for(lambda: queries.latest_output(definition) is not None)
    before = queries.latest_output(definition)
    assert before is not None
    assert before.periods_to == today - timezone.timedelta(days=1)

    # Oakleigh House sends today's status on the form.
    sign_in(page, OAKLEIGH, DEMO_PASSWORD, _key(summary, OAKLEIGH))
    _open_form(page)
    _about_the_home(page)
    _figures(page, occupied="45")
    page.get_by_role("button", name="Send today's status").click()
    expect(page.locator("[data-task-progress-text]")).to_contain_text("Finished", timeout=90_000)
    page.get_by_role("link", name="See the result").click()
    expect(page.locator("body")).to_contain_text("Accepted")

    def remade() -> bool:
        latest = queries.latest_output(definition)
        return latest is not None and latest.periods_to == today

    _wait_for(remade)
    latest = queries.latest_output(definition)
    assert latest is not None
    assert latest.summary["suppressed"] > 0
    assert latest.summary["rounded"] > 0
    _sign_out(page)

    # The combined authority's dashboard: today's figures, protected, with charts.
    sign_in(page, GMCA, DEMO_PASSWORD, _key(summary, GMCA))
    page.goto("/outputs/")
    assert_accessible(page)
    page.get_by_role("link", name=demo_outputs.NAME).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(demo_outputs.NAME)
    # The last full day is shown first; today's returns so far are a link away.
    yesterday = today - timezone.timedelta(days=1)
    expect(page.locator("#output-as-of")).to_contain_text(
        f"{yesterday:%A} {yesterday.day} {yesterday:%B %Y}"
    )
    areas = page.locator("#areas")
    for area in ("Maidstone", "Canterbury", "Tunbridge Wells", "Medway"):
        expect(areas).to_contain_text(area)
    so_far = page.locator("#output-so-far")
    expect(so_far).to_contain_text("still coming in: 1 of 4 areas so far")
    so_far.get_by_role("link").click()
    expect(page.locator("#output-as-of")).to_contain_text(f"{today:%A} {today.day} {today:%B %Y}")
    expect(areas).to_contain_text("Maidstone")
    expect(areas.locator("td[data-status]").first).to_have_text("1")  # Oakleigh, reporting
    assert_accessible(page)
    page.go_back()
    expect(page.locator("svg.accord-chart__svg")).to_have_count(
        len(definition_measures(definition))
    )
    expect(page.locator("td[data-status='suppressed']").first).to_contain_text("[c]")
    expect(page.locator("td[data-status='rounded']").first).to_be_attached()
    page.get_by_text("Residents newly testing positive as a table").click()
    expect(page.locator("#chart-residents_covid_positive_new_24h table")).to_be_visible()
    expect(page.locator("#rules")).to_contain_text("Counts of 1 to 7 people are suppressed")
    expect(page.locator("#output-queries")).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.locator("#download-csv").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert "[c]" in text
    _sign_out(page)

    # Each contributing council finds it on Returned to you, its own area highlighted.
    for username, area in ((KENT, "Kent"), (MEDWAY, "Medway")):
        sign_in(page, username, DEMO_PASSWORD, _key(summary, username))
        page.get_by_role("link", name="Returned to you").click()
        card = page.locator(f"#returned-{demo_outputs.SLUG}")
        expect(card).to_contain_text(demo_outputs.NAME)
        expect(card).to_contain_text("Made from your returns")
        own = card.locator("tr.accord-highlight")
        expect(own).to_contain_text(area)
        expect(own).to_contain_text("Your area")
        assert_accessible(page)
        card.get_by_role("link", name=re.compile("See the dashboard")).click()
        expect(page.locator("#benchmarks")).to_contain_text(area)
        expect(page.locator("#benchmarks")).to_contain_text("All homes reporting")
        assert_accessible(page)
        _sign_out(page)


def definition_measures(definition: OutputDefinition) -> list[str]:
    from accord.outputs import recipes

    return [m.name for m in recipes.recipe_for(definition.recipe).measures]
