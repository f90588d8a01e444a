"""The demo shows every persona: each signs in through the pages with the printed password
and (where their roles need it) the printed authenticator key, and sees their organisation."""

from __future__ import annotations

import base64

from playwright.sync_api import Page, expect

from accord.demo import housing_benefit
from accord.demo.loader import load_demo

from .conftest import assert_accessible
from .test_people_and_organisations import code_for

DEMO_PASSWORD = "demo-persona-password-for-tests"


def test_every_persona_signs_in(page: Page, transactional_db) -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    people = [p for p in summary.personas if p.memberships]
    assert len(people) >= 14
    for number, persona in enumerate(people):
        page.goto("/sign-in/")
        page.get_by_label("Email address").fill(persona.username)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        if persona.totp_secret:
            key = base64.b32decode(persona.totp_secret + "=" * (-len(persona.totp_secret) % 8))
            page.get_by_label("Security code").fill(code_for(key))
            page.get_by_role("button", name="Continue").click()
        first = persona.memberships[0]
        line = page.locator("#current-organisation")
        expect(line).to_contain_text(persona.username)
        expect(line).to_contain_text(first.organisation)
        expect(page.locator("#demo-banner")).to_contain_text("synthetic")
        if number == 0:
            assert_accessible(page)
        page.locator("#sign-out").click()
        expect(page.get_by_role("heading", name="Sign in to Accord")).to_be_visible()


def _sign_in(page: Page, persona) -> None:
    page.goto("/sign-in/")
    page.get_by_label("Email address").fill(persona.username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if persona.totp_secret:
        key = base64.b32decode(persona.totp_secret + "=" * (-len(persona.totp_secret) % 8))
        page.get_by_label("Security code").fill(code_for(key))
        page.get_by_role("button", name="Continue").click()
    expect(page.locator("#current-organisation")).to_contain_text(persona.username)


def test_the_demo_starts_with_data_shared_with_the_districts_and_councils(
    page: Page, transactional_db
) -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    personas = {p.username: p for p in summary.personas}

    # Maidstone's analyst finds Kent's housing benefit collection and UKHSA's releases.
    _sign_in(page, personas["analyst@midkent.demo.accord.test"])
    page.goto("/shared/")
    housing = page.locator(".shared-grant", has_text=housing_benefit.PURPOSE)
    expect(housing.locator(".shared-sources")).to_contain_text("Housing benefit claims (demo)")
    expect(housing.locator(".row-limit")).to_contain_text("E07000110")
    tests = page.locator(".shared-grant", has_text="from UK Health Security Agency")
    expect(tests.locator(".shared-sources li")).to_have_count(2)
    assert_accessible(page)
    page.locator("#sign-out").click()

    # UKHSA's national data team sees its two releases.
    _sign_in(page, personas["analyst@ukhsa.demo.accord.test"])
    page.goto("/releases/")
    expect(page.get_by_text("Week ending").first).to_be_visible()
    assert_accessible(page)
