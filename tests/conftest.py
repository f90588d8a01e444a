"""Shared test set-up: a private data folder per run, and the audit chain's database state."""

from __future__ import annotations

import pytest

# Each run's private data folder is chosen in the settings (see DATA_DIR there).


@pytest.fixture(autouse=True)
def _audit_chain_ready(request: pytest.FixtureRequest):
    """Transactional tests empty every table between tests, which the audit log's append-only
    triggers rightly refuse. Around such tests: put back the head row and the triggers, and take
    the triggers off again just before Django's flush."""
    marker = request.node.get_closest_marker("django_db")
    uses_transactions = any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    ) or bool(marker and marker.kwargs.get("transaction"))
    if not uses_transactions:
        yield
        return
    request.getfixturevalue("transactional_db")
    from django.db import connection

    from accord.audit import triggers
    from accord.audit.enums import GENESIS_HASH
    from accord.audit.models import AuditHead

    AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})
    triggers.install(connection)
    yield
    triggers.remove(connection)
