"""Shared test set-up: the audit chain's database state around every database test."""

from __future__ import annotations

import pytest

from tests.tasks import task_worker  # noqa: F401  (the background worker fixture, everywhere)

# Each run's private data folder is chosen in the settings (see DATA_DIR there).


@pytest.fixture(autouse=True)
def _audit_chain_ready(request: pytest.FixtureRequest):
    """Keep the audit chain's head row and append-only triggers in place for every test that
    uses the database.

    Transactional tests empty every table afterwards, head row included, which the append-only
    triggers rightly refuse: around such tests the triggers are lifted just for the flush, and
    the head row is put back before any later test, transactional or not, writes an event."""
    marker = request.node.get_closest_marker("django_db")
    transactional = any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    ) or bool(marker and marker.kwargs.get("transaction"))
    uses_db = transactional or marker is not None or "db" in request.fixturenames
    if not uses_db:
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.db import connection

    from accord.audit import triggers
    from accord.audit.enums import GENESIS_HASH
    from accord.audit.models import AuditHead

    AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})
    if not transactional:
        yield
        return
    triggers.install(connection)
    yield
    triggers.remove(connection)


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connections_at_the_end(django_db_setup: None, django_db_blocker):
    """Before the test database is dropped, end any other PostgreSQL session still attached to
    it. Browser tests run Django on Playwright's greenlets, whose connections (Django keeps one
    per context) nothing else closes; PostgreSQL refuses to drop a database in use."""
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
