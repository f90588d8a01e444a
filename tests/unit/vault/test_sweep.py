"""The orphan sweep: each kind of leftover is removed, and nothing else; fresh leftovers (a store
in progress) are left alone; a dry run changes nothing; S3 too; and the command's exit codes.

Leftovers are made as a killed store makes them (see test_killed.py for a real kill): files
written by the vault's own code, then dated back with ``os.utime`` where a test needs them old.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from accord.access.transform import pseudonymisation_key, pseudonymisation_key_id
from accord.audit.models import AuditEvent
from accord.cli.main import main
from accord.vault import actions, keys, sweep
from accord.vault.backends import LocalBackend, default_backend
from accord.vault.files import temporary_name
from accord.vault.sweep import OrphanKind

from .conftest import blob_path, read, store
from .test_s3 import PREFIX, s3, s3_endpoint  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

HOURS_AGO = 2


def _blobs() -> LocalBackend:
    return LocalBackend(Path(django_settings.VAULT_DIR))


def _keystore() -> Path:
    return Path(django_settings.VAULT_KEYSTORE_DIR)


def _files() -> set[Path]:
    return {
        path
        for folder in (_blobs().root, _keystore())
        if folder.exists()
        for path in folder.rglob("*")
        if path.is_file()
    }


def _age(*paths: Path, hours: float = HOURS_AGO) -> None:
    """Date files back, as if a process had been killed while writing them that long ago."""
    when = time.time() - hours * 3600
    for path in paths:
        os.utime(path, (when, when))


def _age_everything(hours: float = HOURS_AGO) -> None:
    _age(*_files(), hours=hours)


def _orphan_blob() -> tuple[str, Path]:
    """A blob no row refers to: a store killed after its blob, before its row."""
    key = f"{uuid.uuid4()}.v1"
    _blobs().write(key, [b"ACCVLT01 ciphertext only"])
    return key, _blobs().path_for(key)


def _orphan_key() -> Path:
    """A key file no row refers to: a store killed after its key file."""
    return keys.store_data_key(uuid.uuid4(), 1, keys.new_data_key())


def _temporary(final: Path, content: bytes = b"half a blob") -> Path:
    """A hidden temporary file: a write killed before it was linked into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    path = temporary_name(final)
    path.write_bytes(content)
    return path


def _sweep_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=sweep.ACTION).order_by("seq"))


@contextlib.contextmanager
def undeletable(path: Path) -> Iterator[None]:
    """Make removing ``path`` really fail: an immutable file when running as root (root ignores
    permissions), a read-only folder otherwise."""
    if os.geteuid() == 0:
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)  # noqa: S603, S607
        if made.returncode != 0:
            pytest.skip(f"cannot make a file immutable here: {made.stderr.decode().strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)  # noqa: S603, S607
    else:
        mode = path.parent.stat().st_mode
        path.parent.chmod(0o500)
        try:
            yield
        finally:
            path.parent.chmod(mode)


# Each kind of leftover --------------------------------------------------------------------------


def test_each_kind_of_leftover_is_removed_and_nothing_else(member) -> None:
    organisation, actor = member
    live = store(actor, organisation, b"still wanted" * 40, name="Live return")
    # A shredded object whose key and blob were put back (a restored backup, say).
    shredded = store(actor, organisation, b"shredded" * 40, name="Shredded return")
    key_bytes, blob_bytes = (
        keys.key_path(shredded.id).read_bytes(),
        blob_path(shredded).read_bytes(),
    )
    actions.crypto_shred(by=actor, obj=shredded, reason="Retention period ended")
    keys.key_path(shredded.id).write_bytes(key_bytes)
    blob_path(shredded).write_bytes(blob_bytes)

    blob_key, orphan_blob = _orphan_blob()
    orphan_key = _orphan_key()
    blob_temporary = _temporary(_blobs().path_for(f"{uuid.uuid4()}.v1"))
    key_temporary = _temporary(keys.key_path(uuid.uuid4()), b'{"half": ')
    stray = _blobs().root / "README.txt"  # not the vault's: never touched
    stray.write_text("notes")
    kept = {blob_path(live), keys.key_path(live.id), stray}
    secrets = [json.loads(path.read_bytes()) for path in (orphan_key, keys.key_path(shredded.id))]
    _age_everything()
    events = AuditEvent.objects.count()

    report = sweep.sweep()

    assert AuditEvent.objects.count() == events + 1  # one event for the whole sweep
    assert report.ok
    assert not report.dry_run
    removed = {(item.kind, item.store, item.name): item.why for item in report.removed}
    root = _blobs().root
    assert removed == {
        (OrphanKind.KEY_FILE, "key store", orphan_key.name): "no vault object has this id",
        (OrphanKind.KEY_FILE, "key store", f"{shredded.id}.key"): removed[
            (OrphanKind.KEY_FILE, "key store", f"{shredded.id}.key")
        ],
        (OrphanKind.BLOB, "blob store", str(orphan_blob.relative_to(root))): (
            "no vault object has this id"
        ),
        (OrphanKind.BLOB, "blob store", str(blob_path(shredded).relative_to(root))): removed[
            (OrphanKind.BLOB, "blob store", str(blob_path(shredded).relative_to(root)))
        ],
        (OrphanKind.TEMPORARY, "blob store", str(blob_temporary.relative_to(root))): (
            "a write that never finished"
        ),
        (OrphanKind.TEMPORARY, "key store", key_temporary.name): "a write that never finished",
    }
    assert removed[(OrphanKind.KEY_FILE, "key store", f"{shredded.id}.key")].startswith(
        "its object was deleted on "
    )
    # Key files go first, as crypto-shredding does.
    assert [item.kind for item in report.removed][:2] == [OrphanKind.KEY_FILE] * 2
    assert _files() == kept
    assert _blobs().leftovers() == []
    assert not _blobs().exists(blob_key)
    assert read(actor, live) == b"still wanted" * 40

    # The audit event has counts and names, and no key material.
    [event] = _sweep_events()
    assert event.actor == "task:vault-sweep"
    assert event.details["removed"] == {
        "key file": 2,
        "blob": 2,
        "temporary file": 2,
        "unfinished upload": 0,
    }
    assert event.details["removed_total"] == 6
    assert event.details["failed"] == 0
    assert f"key store: {orphan_key.name}" in event.details["names"]["key file"]
    assert f"blob store: {orphan_blob.relative_to(root)}" in event.details["names"]["blob"]
    recorded = json.dumps(event.details)
    for document in secrets:
        assert document["wrapped_key"] not in recorded
        assert document["nonce"] not in recorded
    assert report.audit_seq == event.seq

    # Nothing is left to find, and a sweep that removes nothing records nothing.
    again = sweep.sweep()
    assert again.removed == again.failed == again.too_recent == []
    assert again.audit_seq is None
    assert len(_sweep_events()) == 1


# Pseudonymisation keys -------------------------------------------------------------------------


def test_pseudonymisation_keys_are_never_swept_however_old(member) -> None:
    """An agreement's pseudonymisation key has no VaultObject row, and losing it would change
    every pseudonym of the agreement: the sweep never looks in the key store's pseudonym/
    folder, nor counts those keys towards a mass removal."""
    organisation, actor = member
    live = store(actor, organisation, b"kept", name="Live return")
    agreement_keys = {
        agreement: pseudonymisation_key(agreement)
        for agreement in (f"agreement-{n}" for n in range(sweep.MASS_REMOVAL + 2))
    }
    paths = [
        keys.pseudonymisation_key_path(pseudonymisation_key_id(agreement))
        for agreement in agreement_keys
    ]
    assert all(path.parent == _keystore() / "pseudonym" for path in paths)
    orphan_key = _orphan_key()
    _age_everything(hours=24 * 400)

    report = sweep.sweep()  # no refusal: only one top-level key file lacks a row

    assert [(item.kind, item.name) for item in report.removed] == [
        (OrphanKind.KEY_FILE, orphan_key.name)
    ]
    assert all(path.exists() for path in paths)
    assert {agreement: pseudonymisation_key(agreement) for agreement in agreement_keys} == (
        agreement_keys
    )
    assert read(actor, live) == b"kept"
    assert sweep.sweep(dry_run=True).removed == []


# The age threshold ------------------------------------------------------------------------------


def test_fresh_leftovers_are_left_alone_until_older_than_the_threshold(member) -> None:
    _, orphan_blob = _orphan_blob()
    orphan_key = _orphan_key()
    written = timezone.now()

    report = sweep.sweep()
    assert report.removed == []
    assert {item.name for item in report.too_recent} == {
        str(orphan_blob.relative_to(_blobs().root)),
        orphan_key.name,
    }
    assert orphan_blob.exists()
    assert orphan_key.exists()
    assert _sweep_events() == []

    assert sweep.sweep(now=written + timedelta(minutes=58)).removed == []
    assert orphan_blob.exists()
    assert orphan_key.exists()

    later = sweep.sweep(now=written + timedelta(minutes=61))
    assert {item.kind for item in later.removed} == {OrphanKind.BLOB, OrphanKind.KEY_FILE}
    assert not orphan_blob.exists()
    assert not orphan_key.exists()


def test_a_shorter_threshold_can_be_given(member) -> None:
    orphan_key = _orphan_key()
    _age(orphan_key, hours=0.25)
    assert sweep.sweep().removed == []
    assert [item.name for item in sweep.sweep(older_than=timedelta(minutes=10)).removed] == [
        orphan_key.name
    ]
    with pytest.raises(ValueError, match="cannot be negative"):
        sweep.sweep(older_than=timedelta(minutes=-1))


def test_a_store_still_streaming_keeps_its_older_key_file(member) -> None:
    """A large store writes its key file first and may stream its blob for longer than the
    threshold: its temporary file is still growing, so neither it nor the key file is touched."""
    in_flight = uuid.uuid4()
    key_file = keys.store_data_key(in_flight, 1, keys.new_data_key())
    streaming = _temporary(_blobs().path_for(f"{in_flight}.v1"))
    _age(key_file, hours=3)
    abandoned = _orphan_key()
    _age(abandoned, hours=3)

    report = sweep.sweep()

    assert [item.name for item in report.removed] == [abandoned.name]
    assert {item.name for item in report.too_recent} == {
        key_file.name,
        str(streaming.relative_to(_blobs().root)),
    }
    assert key_file.exists()
    assert streaming.exists()


def test_a_blob_just_linked_keeps_its_object_until_the_row_commits(member) -> None:
    """Between linking its blob and committing its row, a store's blob is fresh, so its key file
    (written long before, for a large object) stays too."""
    object_id = uuid.uuid4()
    key_file = keys.store_data_key(object_id, 1, keys.new_data_key())
    _age(key_file, hours=5)
    _blobs().write(f"{object_id}.v1", [b"just finished"])
    assert sweep.sweep().removed == []
    assert key_file.exists()


# A key store that does not match the database ---------------------------------------------------


def test_most_of_the_key_store_without_rows_is_refused_unless_forced(member, capsys) -> None:
    """A wrong DATABASE_URL, or a key store restored before its database: removing the key
    files would destroy the data, so the sweep refuses and removes nothing."""
    organisation, actor = member
    live = [store(actor, organisation, b"kept", name=f"Return {n}") for n in range(2)]
    unknown = [_orphan_key() for _ in range(sweep.MASS_REMOVAL + 1)]
    _age_everything()
    before = _files()

    with pytest.raises(sweep.SweepRefused, match=r"11 of the 13 key files in the key store"):
        sweep.sweep()
    with pytest.raises(sweep.SweepRefused):
        sweep.sweep(dry_run=True)
    assert main(["vault", "sweep"]) == 2
    err = capsys.readouterr().err
    assert "looks like the wrong database, or a restore still under way" in err
    assert "Nothing was removed." in err
    assert _files() == before
    assert _sweep_events() == []

    assert main(["vault", "sweep", "--force"]) == 0
    assert f"Removed {len(unknown)} leftover(s)" in capsys.readouterr().out
    assert not any(path.exists() for path in unknown)
    [event] = _sweep_events()
    assert event.details["forced"] is True
    assert all(read(actor, obj) == b"kept" for obj in live)


def test_a_few_leftovers_in_a_new_vault_are_not_a_mass_removal(member) -> None:
    leftovers = [_orphan_key() for _ in range(sweep.MASS_REMOVAL)]
    _age_everything()
    assert len(sweep.sweep().removed) == len(leftovers)


# Dry run ----------------------------------------------------------------------------------------


def test_a_dry_run_changes_and_records_nothing(member) -> None:
    organisation, actor = member
    live = store(actor, organisation, b"kept")
    _orphan_blob()
    _orphan_key()
    _temporary(_blobs().path_for(f"{uuid.uuid4()}.v1"))
    _age_everything()
    before = {path: path.read_bytes() for path in _files()}
    events = AuditEvent.objects.count()

    report = sweep.sweep(dry_run=True)

    assert report.dry_run
    assert {item.kind for item in report.removed} == {
        OrphanKind.BLOB,
        OrphanKind.KEY_FILE,
        OrphanKind.TEMPORARY,
    }
    assert report.audit_seq is None
    assert {path: path.read_bytes() for path in _files()} == before
    assert AuditEvent.objects.count() == events
    assert read(actor, live) == b"kept"


# A failure --------------------------------------------------------------------------------------


def test_a_leftover_that_cannot_be_removed_is_reported_and_the_rest_go(member) -> None:
    stuck, other = _orphan_key(), _orphan_blob()[1]
    _age_everything()
    with undeletable(stuck):
        report = sweep.sweep()
    assert not report.ok
    [(item, reason)] = report.failed
    assert item.name == stuck.name
    assert reason.startswith("it could not be removed (")
    assert [item.kind for item in report.removed] == [OrphanKind.BLOB]
    assert stuck.exists()
    assert not other.exists()
    [event] = _sweep_events()
    assert event.details["failed"] == 1
    assert stuck.name in event.details["failures"][0]

    # Once the cause is fixed, the next sweep removes it.
    assert [item.name for item in sweep.sweep().removed] == [stuck.name]


# S3 ---------------------------------------------------------------------------------------------


def _s3_names(s3) -> list[str]:  # noqa: F811 (the fixture)
    client, bucket = s3
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_s3_leftovers_are_removed_and_nothing_else(s3, member) -> None:  # noqa: F811
    client, bucket = s3
    organisation, actor = member
    live = store(actor, organisation, b"in the bucket" * 30)
    orphan = f"{uuid.uuid4()}.v1"
    default_backend().write(orphan, [b"ACCVLT01 ciphertext only"])
    orphan_key = _orphan_key()
    # An upload a killed process began and never finished (S3 shows no object for it).
    unfinished = f"{PREFIX}/{uuid.uuid4()}.v1"
    upload = client.create_multipart_upload(Bucket=bucket, Key=unfinished)["UploadId"]
    client.upload_part(Bucket=bucket, Key=unfinished, UploadId=upload, PartNumber=1, Body=b"x")
    client.put_object(Bucket=bucket, Key=f"{PREFIX}/notes.txt", Body=b"not the vault's")
    client.put_object(Bucket=bucket, Key=f"elsewhere/{uuid.uuid4()}.v1", Body=b"outside")

    fresh = sweep.sweep()
    assert fresh.removed == []
    assert len(fresh.too_recent) == 3

    report = sweep.sweep(now=timezone.now() + timedelta(hours=HOURS_AGO))

    assert report.ok
    assert [(item.kind, item.name) for item in report.removed] == [
        (OrphanKind.KEY_FILE, orphan_key.name),
        (OrphanKind.BLOB, f"{PREFIX}/{orphan}"),
        (OrphanKind.UPLOAD, unfinished),
    ]
    assert [item.why for item in report.removed][1:] == [
        "no vault object has this id",
        "an upload that never finished",
    ]
    names = _s3_names(s3)
    assert f"{PREFIX}/{orphan}" not in names
    assert f"{PREFIX}/{live.blob_key}" in names
    assert f"{PREFIX}/notes.txt" in names
    assert len([name for name in names if name.startswith("elsewhere/")]) == 1
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert not orphan_key.exists()
    assert read(actor, live) == b"in the bucket" * 30
    [event] = _sweep_events()
    assert event.details["removed"]["unfinished upload"] == 1


def test_s3_a_shredded_object_put_back_is_removed(s3, member) -> None:  # noqa: F811
    client, bucket = s3
    organisation, actor = member
    obj = store(actor, organisation, b"gone" * 50)
    name = f"{PREFIX}/{obj.blob_key}"
    raw = client.get_object(Bucket=bucket, Key=name)["Body"].read()
    actions.crypto_shred(by=actor, obj=obj, reason="Retention period ended")
    client.put_object(Bucket=bucket, Key=name, Body=raw)

    report = sweep.sweep(now=timezone.now() + timedelta(hours=HOURS_AGO))

    assert [(item.kind, item.name) for item in report.removed] == [(OrphanKind.BLOB, name)]
    assert report.removed[0].why.startswith("its object was deleted on ")
    assert name not in _s3_names(s3)


# The command ------------------------------------------------------------------------------------


def test_the_command_dry_run_then_run(member, capsys) -> None:
    organisation, actor = member
    live = store(actor, organisation, b"kept")
    _, orphan_blob = _orphan_blob()
    orphan_key = _orphan_key()
    _age_everything()
    fresh = _orphan_key()

    assert main(["vault", "sweep", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert (
        "Dry run: nothing was removed. 2 leftover(s) older than 60 minutes would be removed." in out
    )
    assert f"key file {orphan_key.name} in the key store: no vault object has this id" in out
    assert orphan_blob.name in out
    assert "Left 1 newer leftover(s) alone" in out
    assert orphan_blob.exists()
    assert orphan_key.exists()

    assert main(["vault", "sweep"]) == 0
    out = capsys.readouterr().out
    assert "Removed 2 leftover(s) older than 60 minutes." in out
    assert orphan_key.name in out
    assert f"Recorded as audit event {_sweep_events()[0].seq}." in out
    assert not orphan_blob.exists()
    assert not orphan_key.exists()
    assert fresh.exists()

    assert main(["vault", "sweep"]) == 0
    assert "Nothing to remove: no leftovers older than 60 minutes." in capsys.readouterr().out

    assert main(["vault", "sweep", "--older-than", "0"]) == 0
    assert "Removed 1 leftover(s) older than 0 minutes." in capsys.readouterr().out
    assert not fresh.exists()
    assert read(actor, live) == b"kept"


def test_the_command_exits_1_when_a_leftover_cannot_be_removed(member, capsys) -> None:
    stuck = _orphan_key()
    _age(stuck)
    with undeletable(stuck):
        assert main(["vault", "sweep"]) == 1
    out = capsys.readouterr().out
    assert "Could not remove 1 leftover(s):" in out
    assert stuck.name in out
    assert "Fix the cause and run the sweep again." in out


def test_the_command_exits_2_when_it_cannot_start(settings, capsys) -> None:
    settings.VAULT_KEYSTORE_DIR = None
    assert main(["vault", "sweep"]) == 2
    err = capsys.readouterr().err
    assert "accord vault sweep:" in err
    assert "ACCORD_VAULT_KEYSTORE_DIR" in err
    assert "Nothing was removed." in err


@pytest.mark.parametrize("minutes", ["-5", "soon", "1.5"])
def test_the_command_refuses_a_bad_age(capsys, minutes: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["vault", "sweep", "--older-than", minutes])
    assert exited.value.code == 2
    assert "give a whole number of minutes, 0 or more" in capsys.readouterr().err
