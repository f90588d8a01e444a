"""A process killed mid-write leaves no partial object and loses no earlier object.

A real second process (a fresh interpreter, pointed at this test's database, blob store, key
store and master key) starts storing an endless object; once its blob's temporary file holds
bytes it is killed with SIGKILL, so no clean-up code runs. What it leaves is never visible as an
object, the earlier object still reads back exactly, and the leftovers (the hidden temporary
file and the key file written before the blob) are exactly what the sweep finds and removes,
but only once they are older than the threshold.

The test is transactional, so the organisation the second process stores for is committed
and visible to it, on SQLite (a file, shared) and on PostgreSQL alike.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.vault import keys, sweep
from accord.vault.backends import LocalBackend
from accord.vault.models import VaultObject
from tests.settings_process import start_django_in_background

from .conftest import read, store

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 90  # for the second process to start Django and begin writing; never reached
EARLIER = os.urandom(5000)

WRITER = """
import sys
import time

import django

django.setup()

from accord.access.enums import ResourceKind
from accord.audit.actor import Actor
from accord.organisations.models import Organisation
from accord.vault import actions


def endless():
    piece = b"never finished " * 4096
    while True:
        yield piece
        time.sleep(0.005)


actions.store(
    by=Actor.task("killed-store-test"),
    organisation=Organisation.objects.get(pk=sys.argv[1]),
    kind=ResourceKind.SUBMISSION,
    name="Killed half-way",
    source=endless(),
    chunk_size=64 * 1024,
)
print("the endless store finished, which it must not")
"""

TEMPORARY = re.compile(
    r"^\.(?P<id>[0-9a-f-]{36})\.v1\.[0-9a-f]+\.tmp$"
)  # as files.temporary_name makes


def _database_url() -> str:
    """This test run's database (pytest-django's test_... database) as a DATABASE_URL."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    assert connection.vendor == "postgresql", connection.vendor
    user = quote(str(database.get("USER") or ""), safe="")
    password = quote(str(database.get("PASSWORD") or ""), safe="")
    login = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = database.get("HOST") or "localhost"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{login}{host}{port}/{quote(str(database['NAME']), safe='')}"


def _environment() -> dict[str, str]:
    return {
        "ACCORD_DATA_DIR": str(settings.DATA_DIR),
        "DATABASE_URL": _database_url(),
        "ACCORD_VAULT_DIR": str(settings.VAULT_DIR),
        "ACCORD_VAULT_KEYSTORE_DIR": str(settings.VAULT_KEYSTORE_DIR),
        # The key this test process uses, however it is configured here.
        "ACCORD_MASTER_KEY": base64.b64encode(keys.master_key().key).decode(),
    }


def _wait_for_a_growing_temporary_file(
    blobs: LocalBackend, writer: subprocess.Popen[bytes], output: Path
) -> Path:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if writer.poll() is not None:
            pytest.fail(
                f"The writer stopped by itself ({writer.returncode}):\n{output.read_text()}"
            )
        for path in blobs.leftovers():
            try:
                if path.stat().st_size > 0:
                    return path
            except FileNotFoundError:
                continue
        time.sleep(0.02)
    pytest.fail(f"The writer never began writing its blob:\n{output.read_text()}")


def test_a_store_killed_mid_write_leaves_only_what_the_sweep_removes(member, tmp_path) -> None:
    organisation, actor = member
    earlier = store(actor, organisation, EARLIER, name="Earlier return")
    blobs = LocalBackend(Path(settings.VAULT_DIR))
    keystore = Path(settings.VAULT_KEYSTORE_DIR)
    earlier_files = {blobs.path_for(earlier.blob_key), keys.key_path(earlier.id)}
    events = AuditEvent.objects.count()

    output = tmp_path / "writer.log"
    writer = start_django_in_background(
        WRITER, _environment(), args=(str(organisation.pk),), output=output
    )
    try:
        temporary = _wait_for_a_growing_temporary_file(blobs, writer, output)
        os.kill(writer.pid, signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(timeout=30)

    # What the killed process left: a hidden temporary file holding part of the blob, and the
    # key file it wrote before the blob. No visible blob, no row, no audit event.
    found = TEMPORARY.match(temporary.name)
    assert found, temporary.name
    object_id = found["id"]
    blob_key = f"{object_id}.v1"
    key_file = keys.key_path(object_id)
    assert temporary.stat().st_size > 0
    assert blobs.leftovers() == [temporary]
    assert not blobs.exists(blob_key)
    assert not blobs.path_for(blob_key).exists()
    assert key_file.is_file()
    assert not VaultObject.objects.filter(pk=object_id).exists()
    assert list(VaultObject.objects.values_list("name", flat=True)) == ["Earlier return"]
    assert AuditEvent.objects.count() == events
    assert not AuditEvent.objects.filter(target__contains=object_id).exists()
    files = {p for folder in (blobs.root, keystore) for p in folder.rglob("*") if p.is_file()}
    assert files == earlier_files | {temporary, key_file}

    # The earlier object is untouched.
    assert read(actor, earlier) == EARLIER

    # Fresh leftovers are too recent for the sweep: an in-flight store looks the same.
    old, recent = sweep.find()
    assert old == []
    assert {(item.kind, item.name) for item in recent} == {
        (sweep.OrphanKind.TEMPORARY, str(temporary.relative_to(blobs.root))),
        (sweep.OrphanKind.KEY_FILE, key_file.name),
    }

    # An hour and more later they are exactly what the sweep removes.
    later = timezone.now() + timedelta(minutes=61)
    report = sweep.sweep(now=later)
    assert report.ok
    assert [(item.kind, item.name, item.object_id) for item in report.removed] == [
        (sweep.OrphanKind.KEY_FILE, key_file.name, object_id),
        (sweep.OrphanKind.TEMPORARY, str(temporary.relative_to(blobs.root)), object_id),
    ]
    assert not temporary.exists()
    assert not key_file.exists()
    files = {p for folder in (blobs.root, keystore) for p in folder.rglob("*") if p.is_file()}
    assert files == earlier_files
    assert read(actor, earlier) == EARLIER
    assert sweep.find(now=later) == ([], [])
