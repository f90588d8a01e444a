"""In the browser, issue 6's story on the demo: three care homes send their daily status for a
day to the combined authority's collection; one sends a file with mistakes, reads what to fix
and sends it again; one is late and is reminded; the combined authority sees who has sent what
and one compiled dataset with provenance and caveats; personal data with no agreement flow is
refused. Checks run in the real background worker, with the progress shown on the page."""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

import polars as pl
from django.utils import timezone
from playwright.sync_api import Page, expect

from accord.demo.collections import NAME
from accord.demo.datasets import care_home_status
from accord.demo.loader import load_demo
from accord.notifications.models import Notification
from accord.organisations.models import Organisation
from accord.submissions.models import Collection, CompiledDataset, Submission
from accord.submissions.reminders import send_return_reminders

from .conftest import assert_accessible
from .test_people_and_organisations import sign_in

DEMO_PASSWORD = "demo-persona-password-for-tests"
OAKLEIGH = "manager@oakleigh.demo.accord.test"
KINGFISHER = "manager@kingfisher.demo.accord.test"
GMCA_ANALYST = "analyst@gmca.demo.accord.test"


def _key(summary, username: str) -> bytes:
    persona = next(p for p in summary.personas if p.username == username)
    secret = persona.totp_secret
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def _return_for(home_name: str, seed: int, day: dt.date, folder: Path, **changes: str) -> Path:
    """The home's row for ``day`` from the demo's synthetic data, as the CSV it would send."""
    frame = care_home_status(Organisation.objects.get(name=home_name), seed=seed)
    row = frame.filter(pl.col("report_date") == day).cast(pl.Utf8)
    if changes:
        row = row.with_columns([pl.lit(v).alias(k) for k, v in changes.items()])
    path = folder / f"{home_name.split()[0].lower()}-{day.isoformat()}.csv"
    row.write_csv(path)
    return path


def _send(page: Page, day: dt.date, path: Path, caveats: str = "") -> None:
    page.get_by_role("link", name="Collections", exact=True).click()
    page.get_by_role("link", name=NAME, exact=True).click()
    page.get_by_role("link", name="Send a return").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Send a return")
    assert_accessible(page)
    page.get_by_label("Which period is it for?").select_option(day.isoformat())
    page.get_by_label("Upload the file").set_input_files(str(path))
    if caveats:
        page.get_by_label(re.compile("Anything the people using this data should know")).fill(
            caveats
        )
    page.get_by_role("button", name="Send the return").click()


def _result(page: Page) -> str:
    """Wait for the background check to finish, following the page's own progress bar."""
    state = page.locator("#submission-state")
    if state.inner_text() in ("Received", "Being checked"):
        expect(page.locator(".accord-task-progress")).to_contain_text("Finished", timeout=60_000)
        page.get_by_role("link", name="See the result").click()
    return page.locator("#submission-state").inner_text()


HOMES = (
    "Oakleigh House Care Home (synthetic)",
    "Kingfisher Court Care Home (synthetic)",
    "Riverside View Care Home (synthetic)",
)


def _sign_out(page: Page) -> None:
    page.locator("#sign-out").click()


def test_three_care_homes_send_a_day_and_the_combined_authority_sees_one_dataset(
    page: Page, transactional_db, task_worker, tmp_path
) -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    collection = Collection.objects.get(name=NAME)
    day = timezone.localdate() - dt.timedelta(days=2)  # its deadline (11:00 yesterday) has passed

    # Oakleigh sends a good return, with a caveat of its own.
    sign_in(page, OAKLEIGH, DEMO_PASSWORD, _key(summary, OAKLEIGH))
    good = _return_for("Oakleigh House Care Home (synthetic)", 11, day, tmp_path)
    _send(page, day, good, caveats="Beds in the refurbished wing are not counted yet.")
    assert_accessible(page)
    assert _result(page) == "Accepted"
    expect(page.locator("#rows")).to_contain_text("1 row, 1 without errors")
    _sign_out(page)

    # Kingfisher's first file has two mistakes: it is rejected and told exactly what to fix.
    sign_in(page, KINGFISHER, DEMO_PASSWORD, _key(summary, KINGFISHER))
    kingfisher = "Kingfisher Court Care Home (synthetic)"
    bad = _return_for(kingfisher, 12, day, tmp_path, registered_beds="forty", postcode="CT1 1XX9")
    _send(page, day, bad)
    assert _result(page) == "Rejected"
    expect(page.locator("#reason")).to_contain_text("rows have errors")
    problems = page.locator("#problems")
    expect(problems).to_contain_text("forty")
    expect(problems).to_contain_text("CT1 1XX9")
    assert_accessible(page)
    with page.expect_download() as waiting:
        page.get_by_role("link", name=re.compile("Download all 2 problems")).click()
    assert "registered_beds" in Path(waiting.value.path()).read_text(encoding="utf-8-sig")
    # ... corrects both and sends it again.
    page.get_by_role("link", name="Send a corrected file").click()
    page.get_by_label("Which period is it for?").select_option(day.isoformat())
    page.get_by_label("Upload the file").set_input_files(
        str(_return_for(kingfisher, 12, day, tmp_path))
    )
    page.get_by_role("button", name="Send the return").click()
    assert _result(page) == "Accepted"
    _sign_out(page)

    # Riverside sends nothing: after the deadline the daily run reminds it, and tells the
    # combined authority.
    run = send_return_reminders()
    assert run.late >= 1
    riverside = Organisation.objects.get(name="Riverside View Care Home (synthetic)")
    late = Notification.objects.filter(organisation=riverside, topic="return_late")
    assert late.filter(subject__contains=day.strftime("%B")).exists()
    assert Notification.objects.filter(
        organisation=collection.owner, topic="return_late", subject__startswith="Riverside"
    ).exists()
    assert send_return_reminders().already_sent >= run.late  # once only

    # The combined authority sees who has sent what, and one compiled dataset.
    sign_in(page, GMCA_ANALYST, DEMO_PASSWORD, _key(summary, GMCA_ANALYST))
    page.get_by_role("link", name="Collections", exact=True).click()
    page.get_by_role("link", name=NAME, exact=True).click()
    card = page.locator(f"#period-{day.isoformat()}")
    # The demo's councils and homes sent the last week's returns at load; Riverside is late.
    expect(card).to_contain_text("4 of 5 sent (80% complete), 1 late")
    expect(card).to_contain_text("Riverside View Care Home (synthetic)")
    expect(card.locator("tr", has_text="Riverside")).to_contain_text("Late")
    # The compilation runs after the acceptances; wait for the one with both new returns.
    sent_today = set(
        Submission.objects.filter(
            collection=collection, period=day, state="accepted", organisation__name__in=HOMES
        ).values_list("pk", flat=True)
    )
    assert len(sent_today) == 2

    def compiled_with_both() -> CompiledDataset | None:
        latest = collection.compilations.order_by("-number").first()
        if latest and sent_today <= set(latest.submissions.values_list("pk", flat=True)):
            return latest
        return None

    for _ in range(120):
        if compiled_with_both():
            break
        page.wait_for_timeout(500)
    compilation = compiled_with_both()
    assert compilation is not None
    page.reload()
    accepted = compilation.submissions.count()
    expect(page.locator("#compiled")).to_contain_text(
        f"{compilation.rows} rows from {accepted} accepted returns"
    )
    expect(page.locator("#compiled-rows").locator("thead")).to_contain_text("source_row")
    expect(page.locator("#caveats")).to_contain_text(
        "Beds in the refurbished wing are not counted yet."
    )
    assert_accessible(page)
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download the compiled dataset (CSV)").click()
    compiled = pl.read_csv(waiting.value.path(), infer_schema=False)
    assert compiled.columns[:4] == ["period", "organisation", "submission", "source_row"]
    assert compiled.height == compilation.rows
    that_day = compiled.filter(pl.col("period") == day.isoformat())
    assert set(HOMES) - {"Riverside View Care Home (synthetic)"} <= set(that_day["organisation"])

    # Personal data with no agreement flow is refused.
    page.get_by_role("link", name="Collections", exact=True).click()
    page.get_by_role("link", name="Set up a collection").click()
    page.get_by_label("What is the collection called?").fill("Shielded residents")
    page.get_by_label("A short name for links").fill("shielded-residents")
    page.get_by_label("Which data standard do returns follow?").select_option(
        "shielded-patient-list"
    )
    page.get_by_label("Weekly").check()
    page.get_by_label("From which date?").fill(f"{day.day}/{day.month}/{day.year}")
    page.get_by_role("button", name="Set up the collection").click()
    page.get_by_label("Add an organisation").select_option(
        label="Oakleigh House Care Home (synthetic)"
    )
    page.get_by_role("button", name="Add").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "only under an active agreement"
    )
    expect(page.locator("#contributors")).to_contain_text("None yet.")
