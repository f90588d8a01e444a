"""A world built once per test module, inside a transaction rolled back when the module ends.

Building a world through the real actions and tasks takes seconds; tests that only read it can
share one. Each test still runs in its own savepoint inside the transaction (pytest-django's
own), so what a test writes is undone before the next. Tests that destroy keys (which no
rollback restores) build their own world instead."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction


@contextmanager
def rolled_back(django_db_blocker: Any) -> Iterator[None]:
    from accord.audit.enums import GENESIS_HASH
    from accord.audit.models import AuditHead

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
