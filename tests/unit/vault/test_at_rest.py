"""Nothing stored is readable at rest: after storing known values (and committing), no file
under the data folder — blobs, key store, keys, the SQLite database and its journal — holds
any of them in plaintext."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accord.vault.models import VaultObject

from .conftest import CHUNK, read, store

KNOWN = [
    b"NHS 943 476 5919",
    b"9434765919",
    b"UPRN 100023336956",
    b"Jane Amelia Doe-Westlake",
    b"12 Acacia Avenue, Wolverhampton WV1 1AA",
]


def _files() -> list[Path]:
    found = [path for path in Path(settings.DATA_DIR).rglob("*") if path.is_file()]
    if connection.vendor == "sqlite":
        database = Path(connection.settings_dict["NAME"])
        found += [p for p in database.parent.glob(database.name + "*") if p.is_file()]
    return found


@pytest.mark.django_db(transaction=True)
def test_no_known_value_is_found_in_plaintext_anywhere(member) -> None:
    organisation, actor = member
    # Enough repetitions that the values cross chunk boundaries and fill several chunks.
    data = b"\n".join(KNOWN) * 50
    assert len(data) > 10 * CHUNK
    obj = store(actor, organisation, data, name="Pupil eligibility return")
    assert read(actor, obj) == data  # it is really there, and readable through the vault
    assert VaultObject.objects.filter(pk=obj.pk).exists()
    connection.close()  # let SQLite fold its journal into the file, as at rest

    files = _files()
    assert any(p.name.endswith(".key") for p in files)  # the key store was swept
    assert any(obj.blob_key in p.name for p in files)  # and the blob
    if connection.vendor == "sqlite":
        # The sweep does read the database: the object's name is metadata, stored in the clear.
        assert any(b"Pupil eligibility return" in p.read_bytes() for p in files)
    for path in files:
        content = path.read_bytes()
        for value in KNOWN:
            assert value not in content, f"{value!r} found in plaintext in {path}"
