"""In the browser, issue 7's story on the demo.

A district analyst (Maidstone) downloads an extract of the county's (Kent's) housing benefit
collection for a purpose the agreement names, and receives only the granted fields and
Maidstone's own rows, with identifiers pseudonymised. The national body (UKHSA) publishes
weekly test results to every council, and each council sees only its own slice. A member of an
unrelated organisation (Islington) gets nothing, by the pages or the API. Kent's DPO sees every
access on "Who used our data", and the audit chain verifies against a checkpoint saved before.
Extracts are built by the real background worker, with the progress shown on the page.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from pathlib import Path

import polars as pl
from django.test import Client
from playwright.sync_api import Page, expect

from accord.access.models import Release
from accord.audit.actor import Actor
from accord.audit.checkpoints import create_checkpoint, load_checkpoint_document
from accord.audit.verification import verify_chain
from accord.demo.housing_benefit import NAME as HB_NAME
from accord.demo.housing_benefit import PURPOSE as HB_PURPOSE
from accord.demo.loader import load_demo
from accord.organisations.actions import create_api_token
from accord.organisations.actors import actor_for
from accord.organisations.models import Membership, Organisation
from accord.submissions.models import Collection

from .conftest import assert_accessible
from .test_people_and_organisations import sign_in

DEMO_PASSWORD = "demo-persona-password-for-tests"
MAIDSTONE_ANALYST = "analyst@midkent.demo.accord.test"
KENT_DPO = "dpo@kent.demo.accord.test"
UKHSA_ANALYST = "analyst@ukhsa.demo.accord.test"
ISLINGTON_IAO = "iao@islington.demo.accord.test"
MAIDSTONE = "E07000110"
HEX64 = re.compile(r"[0-9a-f]{64}")


def _key(summary, username: str) -> bytes:
    persona = next(p for p in summary.personas if p.username == username)
    secret = persona.totp_secret
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


_SIGNED_IN: dict[str, int] = {}


def _sign_in(page: Page, summary, username: str) -> None:
    """Sign in through the pages. A second sign-in of the same persona uses the next
    authenticator code: the one just used would be refused as a replay."""
    times = _SIGNED_IN.get(username, 0)
    _SIGNED_IN[username] = times + 1
    sign_in(page, username, DEMO_PASSWORD, _key(summary, username), steps_ahead=min(times, 1))


def _sign_out(page: Page) -> None:
    page.locator("#sign-out").click()


def _wait_until_ready(page: Page) -> None:
    """Follow the page's own progress indicator until the extract is built."""
    expect(page.locator("[data-task-progress-text]")).to_contain_text("Finished", timeout=60_000)
    page.reload()
    expect(page.locator("#extract-state")).to_have_text("Ready to download")


def _download(page: Page) -> bytes:
    with page.expect_download() as waiting:
        page.locator("#download").click()
    return Path(waiting.value.path()).read_bytes()


def _csv_in(zipped: bytes) -> pl.DataFrame:
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        assert "datapackage.json" in archive.namelist()
        return pl.read_csv(archive.read("extract.csv"), infer_schema=False)


def test_governed_access_end_to_end(page: Page, transactional_db, task_worker, tmp_path) -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    _SIGNED_IN.clear()
    saved = tmp_path / "checkpoint.json"

    # Kent's DPO saves a signed checkpoint of the audit chain before anything happens.
    create_checkpoint(by=Actor.system())
    _sign_in(page, summary, KENT_DPO)
    page.goto("/audit/checkpoints/")
    assert_accessible(page)
    with page.expect_download() as waiting:
        page.get_by_role("link", name=re.compile("^Download checkpoint")).first.click()
    saved.write_bytes(Path(waiting.value.path()).read_bytes())
    _sign_out(page)

    # 1. Maidstone's analyst takes an extract of Kent's housing benefit collection.
    _sign_in(page, summary, MAIDSTONE_ANALYST)
    page.get_by_role("link", name="Shared with you").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Data shared with you")
    # Kent shares other datasets with Maidstone too (the single view's): this agreement's card.
    kent = page.locator(".shared-grant", has_text=HB_PURPOSE)
    expect(kent).to_contain_text(HB_PURPOSE)
    expect(kent).to_contain_text(f"Only rows for your area: {MAIDSTONE}")
    expect(kent).to_contain_text("Pseudonymised")
    assert_accessible(page)
    kent.get_by_role("link", name=re.compile(f"Request an extract of {re.escape(HB_NAME)}")).click()
    page.get_by_label(HB_PURPOSE).check()
    page.get_by_role("radio", name=re.compile("CSV")).check()
    assert_accessible(page)
    page.get_by_role("button", name="Request the extract").click()
    _wait_until_ready(page)
    expect(page.locator("#applied")).to_contain_text("Pseudonymised")
    assert_accessible(page)
    frame = _csv_in(_download(page))

    collection = Collection.objects.get(name=HB_NAME)
    compiled_rows = collection.compilations.latest("number").rows
    assert 0 < frame.height < compiled_rows  # Maidstone's rows only, not all of Kent's
    assert set(frame["ltla_cd"]) == {MAIDSTONE}
    assert all(HEX64.fullmatch(value) for value in frame["nino"])
    assert all(HEX64.fullmatch(value) for value in frame["person_id"])
    assert all(re.fullmatch(r"\d+-\d+|90\+", band) for band in frame["date_of_birth"])
    assert all(re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]? \d", sector) for sector in frame["postcode"])
    assert not {"submission", "source_row"} & set(frame.columns)
    _sign_out(page)

    # 2. UKHSA publishes this week's test results to every council at once.
    _sign_in(page, summary, UKHSA_ANALYST)
    page.get_by_role("link", name="Releases", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Releases")
    assert_accessible(page)
    last = Release.objects.filter(provider__name="UK Health Security Agency").latest("published_at")
    week = pl.read_parquet(_release_rows(last))
    upload = tmp_path / "covid-tests-week.csv"
    week.write_csv(upload)
    page.get_by_role("link", name="Publish data").click()
    page.get_by_label("Name of the release").fill("Week ending (browser test)")
    page.get_by_label("Upload the file").set_input_files(str(upload))
    assert_accessible(page)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Week ending (browser test)")
    recipients = page.locator("#recipients")
    for council in ("Kent County Council", "Maidstone Borough Council", "Medway Council"):
        expect(recipients).to_contain_text(council)
    expect(page.locator("#pickup-chart")).to_contain_text("0 of 7 recipients picked up")
    assert_accessible(page)
    _sign_out(page)
    published = Release.objects.get(label="Week ending (browser test)")
    slices = {r.organisation.gss_code: r.rows for r in published.recipients.all()}
    assert all(rows > 0 for rows in slices.values())
    maidstone_rows = week.filter(pl.col("ltla_cd") == MAIDSTONE).height
    assert slices[MAIDSTONE] == maidstone_rows

    # ... and Maidstone sees only its own slice of it.
    _sign_in(page, summary, MAIDSTONE_ANALYST)
    page.get_by_role("link", name="Releases", exact=True).click()
    received = page.locator("#received")
    expect(received.locator("tr", has_text="Week ending (browser test)")).to_contain_text("New")
    received.get_by_role("link", name="Week ending (browser test)").click()
    expect(page.locator("#slice-rows")).to_contain_text(f"{maidstone_rows} row")
    page.get_by_role("radio", name=re.compile("CSV")).check()
    page.get_by_role("button", name="Download your slice").click()
    _wait_until_ready(page)
    mine = _csv_in(_download(page))
    assert mine.height == maidstone_rows
    assert set(mine["ltla_cd"]) == {MAIDSTONE}
    _sign_out(page)

    # UKHSA sees that Maidstone has picked it up, and the others not yet.
    _sign_in(page, summary, UKHSA_ANALYST)
    page.goto(f"/releases/{published.pk}/")
    expect(page.locator("#pickup-chart")).to_contain_text("1 of 7 recipients picked up")
    maidstone = Organisation.objects.get(gss_code=MAIDSTONE)
    expect(page.locator(f"#recipient-{maidstone.pk}")).not_to_contain_text("Not yet")
    _sign_out(page)

    # 3. Islington has no agreement with Kent: it gets nothing, however it asks.
    _sign_in(page, summary, ISLINGTON_IAO)
    page.get_by_role("link", name="Shared with you").click()
    expect(page.locator("main")).not_to_contain_text("Kent County Council")
    source = f"collection:{collection.pk}"
    maidstones_extract = _latest_extract_of(maidstone)
    for path in (
        f"/extracts/new/?source={source}",
        f"/extracts/{maidstones_extract}/",
        f"/extracts/{maidstones_extract}/download/",
    ):
        response = page.goto(path)
        assert response is not None
        assert response.status == 404, path
    _sign_out(page)
    islington = Membership.objects.select_related("user", "organisation").get(
        user__username=ISLINGTON_IAO
    )
    _, secret = create_api_token(
        by=actor_for(islington.user, islington), membership=islington, name="Browser test"
    )
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    asked = api.post(
        "/api/v1/extracts",
        {"source": source, "purpose": HB_PURPOSE, "format": "csv"},
        content_type="application/json",
    )
    assert asked.status_code == 404
    assert "Kent" not in str(api.get("/api/v1/shared").json())

    # 4. Kent's DPO sees every access to Kent's data on "Who used our data".
    _sign_in(page, summary, KENT_DPO)
    page.get_by_role("link", name=re.compile("Data use")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who used our data")
    uses = page.locator("#uses")
    expect(uses).to_contain_text("Maidstone Borough Council")
    expect(uses).to_contain_text(HB_PURPOSE)
    expect(uses).to_contain_text("Under “Kent housing benefit data")
    assert_accessible(page)
    _sign_out(page)

    # 5. The audit chain still holds everything up to the checkpoint saved at the start.
    result = verify_chain(checkpoint=load_checkpoint_document(saved))
    assert result.ok, result.problems


def _release_rows(release: Release) -> io.BytesIO:
    """The rows of a demo release, read as its provider, through the decision point."""
    from accord.access.decisions import decide
    from accord.access.enums import Action
    from accord.vault.parquet import read_frame
    from accord.vault.queries import resource_for

    membership = Membership.objects.filter(organisation=release.provider).first()
    assert membership is not None
    assert release.data is not None
    by = actor_for(membership.user, membership)
    decision = decide(
        actor=by,
        action=Action.VIEW,
        resource=resource_for(release.data),
        purpose="Preparing this week's release in the browser test",
    )
    frame = read_frame(release.data.pk, by=by, decision=decision)
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    buffer.seek(0)
    return buffer


def _latest_extract_of(organisation: Organisation) -> str:
    from accord.access.models import Extract

    return str(Extract.objects.filter(organisation=organisation).latest("created_at").pk)
