"""A store that fails part-way leaves nothing behind and loses nothing stored before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from accord.audit.models import AuditEvent
from accord.vault.backends import LocalBackend
from accord.vault.models import VaultObject

from .conftest import CHUNK, read, store

pytestmark = pytest.mark.django_db


class SourceFailed(Exception):
    pass


def failing_source() -> Iterator[bytes]:
    for _ in range(5):
        yield b"f" * CHUNK
    raise SourceFailed("the upload connection dropped")


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_a_source_failing_part_way_leaves_nothing(member) -> None:
    organisation, actor = member
    earlier = store(actor, organisation, b"e" * (3 * CHUNK), name="Earlier return")
    blobs, keystore = Path(settings.VAULT_DIR), Path(settings.VAULT_KEYSTORE_DIR)
    before = _files(blobs) | _files(keystore)
    events = AuditEvent.objects.count()

    with pytest.raises(SourceFailed):
        store(actor, organisation, failing_source(), name="Interrupted return")

    assert _files(blobs) | _files(keystore) == before  # no blob, no key, no temporary file
    assert LocalBackend(blobs).leftovers() == []
    assert list(VaultObject.objects.values_list("name", flat=True)) == ["Earlier return"]
    assert AuditEvent.objects.count() == events
    assert read(actor, earlier) == b"e" * (3 * CHUNK)
