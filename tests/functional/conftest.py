"""Browser tests: Playwright drives Debian's Chromium (never a downloaded browser) against a
live server, and every page visited is checked with axe-core."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an event loop in this thread; the tests still use the ORM
# directly (to read emails and authenticator codes), which Django then needs told is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/functional" in str(item.path):
            item.add_marker(pytest.mark.functional)


@pytest.fixture(scope="session", autouse=True)
def _database_outlives_live_server(django_db_setup: None) -> None:
    """Set the test database up before the (session-long) live server, so it is torn down
    after the server has closed its connections; otherwise PostgreSQL refuses to drop a
    database still in use."""


@pytest.fixture(autouse=True)
def _requests_finished() -> Iterator[None]:
    """After each browser test (its contexts closed), wait for the live server's request
    threads to end, and close the test's own database connections.

    Request threads hold a connection while the browser keeps its socket alive. And Playwright's
    sync API runs the test on a greenlet with its own context variables, where Django keeps a
    separate connection that nothing else closes. Left open, either races the next test's
    table flush and, at the end, PostgreSQL's removal of the test database."""
    yield
    deadline = time.monotonic() + 10
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
    connections.close_all()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: run `make chromium` (make test does).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def assert_accessible(page: Page) -> None:
    """No axe-core violations (WCAG 2.2 A and AA, and best practice) on the current page.

    axe is evaluated through the DevTools protocol, which the page's strict Content Security
    Policy does not (and should not) allow as an inline script.

    A click that navigates returns once the new page has committed, before its document is
    parsed, so this waits for the page to finish loading before axe looks at it."""
    page.wait_for_load_state("load")
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                            'wcag22aa', 'best-practice']}
        })"""
    )
    violations = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]
    assert not violations, f"{page.url} has accessibility problems:\n" + json.dumps(
        violations, indent=2
    )
